/* Attack: name_to_handle_at(): the first half of the Shocker file-handle escape
 * Source: Shocker exploit; catalogue open_by_handle_at/name_to_handle_at
 * Expect: SECURITY_VIOLATION (blocked system call: name_to_handle_at) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
static struct { unsigned int bytes; int type; unsigned char h[128]; } fh = {128, 0, {0}};
static int mnt;
int main(void)
{
        printf("TRYING name_to_handle_at\n");
        fflush(stdout);
        long r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/passwd", &fh, &mnt, 0);
        printf("%s name_to_handle_at r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
