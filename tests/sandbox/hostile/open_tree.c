/* Attack: new mount API: open_tree(OPEN_TREE_CLONE) of / to move it elsewhere
 * Source: catalogue fsopen/fsmount/move_mount/open_tree
 * Expect: SECURITY_VIOLATION (blocked system call: open_tree) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING open_tree\n");
        fflush(stdout);
        long r = syscall(SYS_open_tree, -100, "/", 1 /* OPEN_TREE_CLONE */);
        printf("%s open_tree r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
