/* Attack: chroot escape (chroot into a subdirectory, then walk up with ..)
 * Source: classic chroot breakout; bwrap try-syscall chroot
 * Expect: SECURITY_VIOLATION (blocked system call: chroot) */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
        mkdir("/box/jail", 0755);
        printf("TRYING chroot\n");
        fflush(stdout);
        if (chroot("/box/jail") == 0)
                printf("ESCAPED chroot worked\n");
        else
                printf("BLOCKED chroot errno=%d\n", errno);
        return 0;
}
