/* Attack: modify_ldt(): install 16-bit segments (kernel bugs, espfix)
 * Source: catalogue modify_ldt; Docker default profile
 * Expect: SECURITY_VIOLATION (blocked system call: modify_ldt) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static unsigned char desc[16];
int main(void)
{
        printf("TRYING modify_ldt\n");
        fflush(stdout);
        long r = syscall(SYS_modify_ldt, 1, desc, sizeof desc);
        printf("%s modify_ldt r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
