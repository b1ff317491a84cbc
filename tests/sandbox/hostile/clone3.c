/* Attack: clone3() with CLONE_NEWUSER: the flags sit in a struct seccomp cannot inspect
 * Source: bwrap try-syscall clone3; catalogue clone(CLONE_NEW*)
 * Expect: ACCEPTED with "BLOCKED clone3 errno=38" (ENOSYS, libc falls back to clone) */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
        struct clone_args a = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
        long r = syscall(SYS_clone3, &a, sizeof a);
        if (r == 0)
                _exit(0);
        if (r > 0) {
                waitpid((pid_t)r, NULL, 0);
                printf("ESCAPED clone3 created a user namespace\n");
        } else {
                printf("BLOCKED clone3 errno=%d\n", errno);
        }
        pid_t p = fork(); /* glibc's fork must still work */
        if (p == 0)
                _exit(0);
        printf("fork %s\n", p > 0 ? "works" : "broken");
        return 0;
}
