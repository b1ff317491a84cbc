/* Attack: raw clone(CLONE_NEWUSER) without the libc wrapper
 * Source: Sandbox2 namespace testcases; catalogue unshare/clone(CLONE_NEW*)
 * Expect: SECURITY_VIOLATION (blocked system call: clone) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sched.h>
#include <signal.h>
int main(void)
{
        printf("TRYING clone\n");
        fflush(stdout);
        long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        printf("%s clone r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
