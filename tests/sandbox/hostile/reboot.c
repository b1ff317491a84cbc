/* Attack: reboot(RB_AUTOBOOT)
 * Source: DOMjudge stress-test-reboot
 * Expect: SECURITY_VIOLATION (blocked system call: reboot) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/reboot.h>
int main(void)
{
        printf("TRYING reboot\n");
        fflush(stdout);
        long r = reboot(RB_AUTOBOOT);
        printf("%s reboot r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
