/* Attack: unshare(CLONE_NEWUSER): a user namespace gives CAP_SYS_ADMIN inside it (nf_tables, fs-context bugs)
 * Source: moby contrib/syscall-test userns.c; catalogue Namespaces from inside
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
        long r = unshare(CLONE_NEWUSER);
        printf("%s unshare r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
