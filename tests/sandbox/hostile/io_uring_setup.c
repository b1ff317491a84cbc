/* Attack: io_uring_setup() (io_uring can open files and sockets past the syscall filter)
 * Source: isolate 2.6 io_uring note; catalogue io_uring_*
 * Expect: ACCEPTED with "BLOCKED io_uring_setup errno=38" (ENOSYS) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        char params[120];
        memset(params, 0, sizeof params);
        long r = syscall(SYS_io_uring_setup, 8, params);
        printf("%s io_uring_setup r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
