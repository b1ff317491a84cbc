/* Attack: acct() process accounting to a file in /box
 * Source: moby contrib/syscall-test acct.c
 * Expect: SECURITY_VIOLATION (blocked system call: acct) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING acct\n");
        fflush(stdout);
        long r = acct("/box/acct");
        printf("%s acct r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
