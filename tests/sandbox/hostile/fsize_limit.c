/* Attack: write one file past the file-size limit (64 MiB)
 * Source: udge file-1m / file-1m1b (size-limit boundary); CMS write-big-file-quota
 * Expect: RUNTIME_ERROR by SIGXFSZ (signal 25) once the file passes RLIMIT_FSIZE */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
        static char buf[1 << 20];
        memset(buf, 'x', sizeof buf);
        int fd = open("/box/big", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
                return 2;
        for (int i = 0; i < 100; i++) {
                if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
                        printf("BLOCKED short write after %d MiB\n", i);
                        return 0;
                }
                if (i == 63) {
                        printf("wrote 64 MiB\n");
                        fflush(stdout);
                }
        }
        printf("ESCAPED wrote 100 MiB\n");
        return 0;
}
