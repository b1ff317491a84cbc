/* Attack: setns() into pid 1's mount namespace
 * Source: catalogue Namespaces from inside (setns)
 * Expect: SECURITY_VIOLATION (blocked system call: setns) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>
int main(void)
{
        printf("TRYING setns\n");
        fflush(stdout);
        long r = setns(open("/proc/1/ns/mnt", O_RDONLY), 0);
        printf("%s setns r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
