/* Attack: mount a tmpfs over /
 * Source: catalogue mount/umount/pivot_root; bwrap try-syscall
 * Expect: SECURITY_VIOLATION (blocked system call: mount) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mount.h>
int main(void)
{
        printf("TRYING mount\n");
        fflush(stdout);
        long r = mount("none", "/", "tmpfs", 0, NULL);
        printf("%s mount r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
