/* Attack: add_key() to the user keyring (shared by every box with the same uid)
 * Source: isolate syscall flag 1; catalogue keyctl/add_key/request_key
 * Expect: SECURITY_VIOLATION (blocked system call: add_key) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING add_key\n");
        fflush(stdout);
        long r = syscall(SYS_add_key, "user", "sentinel", "x", 1, -4 /* KEY_SPEC_USER_KEYRING */);
        printf("%s add_key r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
