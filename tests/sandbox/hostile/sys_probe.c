/* Attack: read /sys (cgroupfs, kernel, devices) from the box
 * Source: catalogue "/sys/..."; runc CVE-2024-21626 (host cgroupfs)
 * Expect: ACCEPTED with "BLOCKED" for each path (/sys is not mounted) */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int main(void)
{
        const char *paths[] = {"/sys/fs/cgroup", "/sys/kernel", "/sys/class/net", "/sys/firmware"};
        for (unsigned i = 0; i < 4; i++) {
                struct stat st;
                if (stat(paths[i], &st) < 0)
                        printf("BLOCKED %s errno=%d\n", paths[i], errno);
                else
                        printf("ESCAPED %s exists\n", paths[i]);
        }
        return 0;
}
