/* Attack: clock_settime(CLOCK_REALTIME) to the epoch
 * Source: catalogue clock_settime/settimeofday/adjtimex
 * Expect: SECURITY_VIOLATION (blocked system call: clock_settime) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
static struct timespec ts;
int main(void)
{
        printf("TRYING clock_settime\n");
        fflush(stdout);
        long r = clock_settime(CLOCK_REALTIME, &ts);
        printf("%s clock_settime r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
