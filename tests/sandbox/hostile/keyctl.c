/* Attack: keyctl(KEYCTL_GET_KEYRING_ID) on the session keyring (keyrings persist across boxes)
 * Source: isolate syscall flag 1; catalogue keyctl/add_key/request_key
 * Expect: SECURITY_VIOLATION (blocked system call: keyctl) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING keyctl\n");
        fflush(stdout);
        long r = syscall(SYS_keyctl, 0, -3, 0);
        printf("%s keyctl r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
