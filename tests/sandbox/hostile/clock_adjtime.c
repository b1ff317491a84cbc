/* Attack: clock_adjtime(CLOCK_REALTIME, ADJ_OFFSET): adjtimex through its other entry point (what glibc's adjtimex() calls)
 * Source: catalogue clock_settime/settimeofday/adjtimex
 * Expect: ACCEPTED with "BLOCKED clock_adjtime r=-1 errno=1" (EPERM by policy) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/timex.h>
#include <time.h>
static struct timex tx = {.modes = ADJ_OFFSET};
int main(void)
{
        printf("TRYING clock_adjtime\n");
        fflush(stdout);
        long r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
        printf("%s clock_adjtime r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
