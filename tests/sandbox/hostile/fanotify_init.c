/* Attack: fanotify_init(): watch file access system-wide
 * Source: catalogue fanotify_init
 * Expect: SECURITY_VIOLATION (blocked system call: fanotify_init) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING fanotify_init\n");
        fflush(stdout);
        long r = syscall(SYS_fanotify_init, 0, 0);
        printf("%s fanotify_init r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
