/* Attack: ioctl(TIOCLINUX) (console selection paste)
 * Source: catalogue ioctl TIOCSTI / TIOCLINUX
 * Expect: SECURITY_VIOLATION (blocked system call: ioctl) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/ioctl.h>
static char sub = 2;
int main(void)
{
        printf("TRYING ioctl\n");
        fflush(stdout);
        long r = ioctl(0, TIOCLINUX, &sub);
        printf("%s ioctl r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
