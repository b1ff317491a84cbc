/* Attack: finit_module() on /dev/null
 * Source: catalogue init/finit/delete_module
 * Expect: SECURITY_VIOLATION (blocked system call: finit_module) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING finit_module\n");
        fflush(stdout);
        long r = syscall(SYS_finit_module, 0, "", 0);
        printf("%s finit_module r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
