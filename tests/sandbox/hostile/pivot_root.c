/* Attack: pivot_root back out of the box
 * Source: catalogue mount/umount/pivot_root
 * Expect: SECURITY_VIOLATION (blocked system call: pivot_root) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING pivot_root\n");
        fflush(stdout);
        long r = syscall(SYS_pivot_root, "/tmp", "/tmp");
        printf("%s pivot_root r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
