/* Attack: request_key() (upcall into the host)
 * Source: catalogue keyctl/add_key/request_key
 * Expect: SECURITY_VIOLATION (blocked system call: request_key) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING request_key\n");
        fflush(stdout);
        long r = syscall(SYS_request_key, "user", "sentinel", NULL, 0);
        printf("%s request_key r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
