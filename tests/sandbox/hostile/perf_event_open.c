/* Attack: perf_event_open() (side channels, kernel bugs)
 * Source: Docker default profile; catalogue perf_event_open
 * Expect: SECURITY_VIOLATION (blocked system call: perf_event_open) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>
static struct perf_event_attr a = {.type = PERF_TYPE_SOFTWARE, .size = sizeof a, .config = PERF_COUNT_SW_CPU_CLOCK};
int main(void)
{
        printf("TRYING perf_event_open\n");
        fflush(stdout);
        long r = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
        printf("%s perf_event_open r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
