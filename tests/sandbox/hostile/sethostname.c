/* Attack: sethostname() (shared UTS name if the box had no uts namespace)
 * Source: Sandbox2 hostname testcase; catalogue sethostname/setdomainname
 * Expect: SECURITY_VIOLATION (blocked system call: sethostname) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING sethostname\n");
        fflush(stdout);
        long r = sethostname("pwned", 5);
        printf("%s sethostname r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
