/* Attack: umount2("/", MNT_DETACH) to uncover what is below the new root
 * Source: catalogue mount/umount/pivot_root
 * Expect: SECURITY_VIOLATION (blocked system call: umount2) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mount.h>
int main(void)
{
        printf("TRYING umount2\n");
        fflush(stdout);
        long r = umount2("/", MNT_DETACH);
        printf("%s umount2 r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
