/* Attack: ioctl(TIOCSTI | 1 << 32): high bits the kernel ignores but a naive filter compares
 * Source: bwrap CVE-2019-10063
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
        long r = syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), &c);
        printf("%s ioctl r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
