/* Attack: overwrite the launcher through /proc/self/exe and /proc/1/exe; reach the host root
 * through /proc/1/root and /proc/1/cwd
 * Source: runc CVE-2019-5736; runc CVE-2024-21626
 * Expect: ACCEPTED with "BLOCKED" for each (ETXTBSY, EACCES, EROFS) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void try(const char *p, int flags)
{
        int fd = open(p, flags);
        if (fd >= 0)
                printf("ESCAPED open %s flags=%d\n", p, flags);
        else
                printf("BLOCKED open %s flags=%d errno=%d\n", p, flags, errno);
}

int main(void)
{
        try("/proc/self/exe", O_WRONLY);
        try("/proc/self/exe", O_RDWR);
        try("/proc/1/exe", O_WRONLY);
        try("/proc/1/exe", O_RDONLY);
        try("/proc/1/root/etc/shadow", O_RDONLY);
        try("/proc/1/cwd", O_RDONLY | O_DIRECTORY);
        try("/proc/1/mem", O_RDONLY);
        try("/proc/1/fd/0", O_RDONLY);
        return 0;
}
