/* Attack: steal a descriptor from pid 1 (the sandbox's init) with pidfd_getfd, and kcmp it
 * Source: catalogue "ptrace / process_vm_readv|writev / kcmp / pidfd_getfd"
 * Expect: SECURITY_VIOLATION (blocked system call: pidfd_getfd) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING pidfd_getfd\n");
        fflush(stdout);
        long pfd = syscall(SYS_pidfd_open, 1, 0);
        printf("pidfd_open(1)=%ld errno=%d\n", pfd, pfd < 0 ? errno : 0);
        fflush(stdout);
        for (int fd = 0; fd < 8 && pfd >= 0; fd++) {
                long r = syscall(SYS_pidfd_getfd, pfd, fd, 0);
                if (r >= 0)
                        printf("ESCAPED got init's fd %d\n", fd);
                else if (fd == 0)
                        printf("BLOCKED pidfd_getfd errno=%d\n", errno);
        }
        long k = syscall(SYS_kcmp, getpid(), 1, 0 /* KCMP_FILE */, 0, 0);
        printf("kcmp(self, 1)=%ld errno=%d\n", k, k < 0 ? errno : 0);
        return 0;
}
