/* Attack: read kernel secrets from /proc and write to /proc/sys and /proc/sysrq-trigger
 * Source: catalogue "/proc/kcore, /proc/keys, /proc/timer_list"; runc masked paths
 * Expect: ACCEPTED with "BLOCKED" for each (masked by /dev/null, EACCES or EROFS) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void try_read(const char *p)
{
        char buf[512];
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
                printf("BLOCKED read %s errno=%d\n", p, errno);
                return;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n <= 0)
                printf("BLOCKED read %s: %zd bytes errno=%d\n", p, n, n < 0 ? errno : 0);
        else
                printf("ESCAPED read %s: %zd bytes\n", p, n);
}

static void try_write(const char *p, const char *v)
{
        int fd = open(p, O_WRONLY);
        if (fd < 0) {
                printf("BLOCKED write %s errno=%d\n", p, errno);
                return;
        }
        ssize_t n = write(fd, v, 1);
        close(fd);
        printf("%s write %s: %zd errno=%d\n", n == 1 ? "ESCAPED" : "BLOCKED", p, n, n < 0 ? errno : 0);
}

int main(void)
{
        try_read("/proc/kcore");
        try_read("/proc/keys");
        try_read("/proc/timer_list");
        try_read("/proc/kallsyms");
        try_write("/proc/sys/kernel/hostname", "x");
        try_write("/proc/sys/vm/drop_caches", "3");
        try_write("/proc/sysrq-trigger", "h");
        return 0;
}
