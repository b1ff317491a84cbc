/* Attack: read the environment and command line of pid 1 (the sandbox's init, forked from the
 * host's supervisor) and of itself
 * Source: udge pinfo; Judge0 issue #564; catalogue "/proc/PID/environ and cmdline"
 * Expect: ACCEPTED; none of the host's environment shows up */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void dump(const char *path)
{
        char buf[65536];
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
                printf("BLOCKED %s errno=%d\n", path, errno);
                return;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n < 0) {
                printf("BLOCKED read %s errno=%d\n", path, errno);
                return;
        }
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == 0)
                        buf[i] = ' ';
        printf("DUMP %s: %.*s\n", path, (int)n, buf);
}

int main(void)
{
        dump("/proc/1/environ");
        dump("/proc/1/cmdline");
        dump("/proc/self/environ");
        dump("/proc/self/cmdline");
        return 0;
}
