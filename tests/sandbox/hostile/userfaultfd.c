/* Attack: userfaultfd() (used to win kernel races)
 * Source: Docker default profile; catalogue userfaultfd
 * Expect: SECURITY_VIOLATION (blocked system call: userfaultfd) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING userfaultfd\n");
        fflush(stdout);
        long r = syscall(SYS_userfaultfd, 0);
        printf("%s userfaultfd r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
