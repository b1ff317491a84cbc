/* Attack: kexec_load() a new kernel
 * Source: catalogue kexec_*
 * Expect: SECURITY_VIOLATION (blocked system call: kexec_load) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING kexec_load\n");
        fflush(stdout);
        long r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
        printf("%s kexec_load r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
