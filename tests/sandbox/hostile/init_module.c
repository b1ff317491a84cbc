/* Attack: init_module() with an empty image
 * Source: catalogue init/finit/delete_module
 * Expect: SECURITY_VIOLATION (blocked system call: init_module) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING init_module\n");
        fflush(stdout);
        long r = syscall(SYS_init_module, NULL, 0, "");
        printf("%s init_module r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
