/* Attack: open_by_handle_at() ("Shocker": open host files by inode handle)
 * Source: Shocker exploit; catalogue open_by_handle_at/name_to_handle_at
 * Expect: SECURITY_VIOLATION (blocked system call: open_by_handle_at) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
static struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
int main(void)
{
        printf("TRYING open_by_handle_at\n");
        fflush(stdout);
        long r = syscall(SYS_open_by_handle_at, 0, &fh, 0);
        printf("%s open_by_handle_at r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
