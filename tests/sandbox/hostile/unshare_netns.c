/* Attack: unshare(CLONE_NEWNET | CLONE_NEWNS) to get a private network and mount namespace
 * Source: moby contrib/syscall-test ns.c
 * Expect: SECURITY_VIOLATION (blocked system call: unshare) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sched.h>
int main(void)
{
        printf("TRYING unshare\n");
        fflush(stdout);
        long r = unshare(CLONE_NEWNET | CLONE_NEWNS);
        printf("%s unshare r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
