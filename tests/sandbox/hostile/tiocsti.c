/* Attack: ioctl(TIOCSTI) to push characters into the controlling terminal's input
 * Source: bwrap CVE-2017-5226; catalogue TIOCSTI
 * Expect: SECURITY_VIOLATION (blocked system call: ioctl) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/ioctl.h>
static char c = 'x';
int main(void)
{
        printf("TRYING ioctl\n");
        fflush(stdout);
        long r = ioctl(0, TIOCSTI, &c);
        printf("%s ioctl r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
