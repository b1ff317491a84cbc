/* Attack: ptrace(PTRACE_ATTACH) to pid 1, the sandbox's init forked from the supervisor
 * Source: Sandbox2 ptrace parent testcase; catalogue ptrace against anything reachable
 * Expect: SECURITY_VIOLATION (blocked system call: ptrace) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/ptrace.h>
int main(void)
{
        printf("TRYING ptrace\n");
        fflush(stdout);
        long r = ptrace(PTRACE_ATTACH, 1, 0, 0);
        printf("%s ptrace r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
