/* Attack: adjtimex() with ADJ_OFFSET
 * Source: catalogue clock_settime/settimeofday/adjtimex
 * Expect: ACCEPTED with "BLOCKED adjtimex r=-1 errno=1" (EPERM by policy: modes 0 only reads NTP state) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/timex.h>
static struct timex tx = {.modes = ADJ_OFFSET};
int main(void)
{
        printf("TRYING adjtimex\n");
        fflush(stdout);
        long r = syscall(SYS_adjtimex, &tx); /* glibc would use clock_adjtime */
        printf("%s adjtimex r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
