/* Attack: x32 ABI system call (nr | 0x40000000), which a filter keyed on plain numbers misses
 * Source: catalogue ABI confusion (x32); isolate flag 16
 * Expect: SECURITY_VIOLATION (non-native ABI) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING x32 getpid\n");
        fflush(stdout);
        long r = syscall(0x40000000L | SYS_getpid);
        printf("%s x32 getpid r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
