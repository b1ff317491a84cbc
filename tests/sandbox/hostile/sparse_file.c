/* Attack: sparse file, write one byte at offset 1 TiB (no disk used, huge apparent size)
 * Source: catalogue Disk: "sparse files"
 * Expect: ACCEPTED with "BLOCKED pwrite errno=27" (EFBIG from RLIMIT_FSIZE; SIGXFSZ ignored) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        signal(SIGXFSZ, SIG_IGN);
        int fd = open("/box/sparse", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
                return 2;
        if (pwrite(fd, "x", 1, (off_t)1 << 40) < 0)
                printf("BLOCKED pwrite errno=%d\n", errno);
        else
                printf("ESCAPED 1 TiB sparse file\n");
        return 0;
}
