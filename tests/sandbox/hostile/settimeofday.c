/* Attack: settimeofday() to the epoch
 * Source: catalogue clock_settime/settimeofday/adjtimex
 * Expect: SECURITY_VIOLATION (blocked system call: settimeofday) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/time.h>
static struct timeval tv;
int main(void)
{
        printf("TRYING settimeofday\n");
        fflush(stdout);
        long r = syscall(SYS_settimeofday, &tv, NULL); /* glibc would use clock_settime */
        printf("%s settimeofday r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
