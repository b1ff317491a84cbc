/* Attack: quotactl() on the root file system
 * Source: catalogue quotactl
 * Expect: SECURITY_VIOLATION (blocked system call: quotactl) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING quotactl\n");
        fflush(stdout);
        long r = syscall(SYS_quotactl, 0x800007 /* Q_GETINFO user */, "/dev/vda", 0, NULL);
        printf("%s quotactl r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
