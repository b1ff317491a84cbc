/* Attack: new mount API: fsopen("tmpfs") to build a mount without mount(2)
 * Source: catalogue fsopen/fsmount/move_mount/open_tree
 * Expect: SECURITY_VIOLATION (blocked system call: fsopen) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING fsopen\n");
        fflush(stdout);
        long r = syscall(SYS_fsopen, "tmpfs", 0);
        printf("%s fsopen r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
