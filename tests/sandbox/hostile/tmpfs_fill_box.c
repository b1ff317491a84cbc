/* Attack: fill /box until the disk is full (it must be the box's own size-limited tmpfs)
 * Source: udge diskfill; CMS write-big-file-quota
 * Expect: ACCEPTED with "BLOCKED write errno=28" (ENOSPC) after at most 128 MiB */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
        static char buf[1 << 20];
        memset(buf, 'f', sizeof buf);
        size_t mib = 0;
        for (int f = 0; f < 64; f++) {
                char name[64];
                snprintf(name, sizeof name, "/box/fill-%d", f);
                int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (fd < 0) {
                        printf("BLOCKED open errno=%d after %zu MiB\n", errno, mib);
                        return 0;
                }
                for (int i = 0; i < 16; i++) {
                        for (size_t done = 0; done < sizeof buf;) {
                                ssize_t n = write(fd, buf + done, sizeof buf - done);
                                if (n <= 0) {
                                        printf("BLOCKED write errno=%d after %zu MiB\n", n < 0 ? errno : 0, mib);
                                        return 0;
                                }
                                done += (size_t)n;
                        }
                        mib++;
                }
                close(fd);
        }
        printf("ESCAPED wrote %zu MiB to /box\n", mib);
        return 0;
}
