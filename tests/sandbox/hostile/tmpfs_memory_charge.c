/* Attack: park data in tmpfs (/tmp) instead of the heap to get around the memory limit
 * Source: udge tmp60mib; catalogue "tmpfs writes charged to memory"
 * Expect: MEMORY_LIMIT_EXCEEDED, or ACCEPTED with "BLOCKED" (ENOMEM/ENOSPC) before 48 MiB */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
        static char buf[1 << 20];
        memset(buf, 't', sizeof buf);
        int fd = open("/tmp/park", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        for (int i = 0; i < 48; i++) {
                if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
                        printf("BLOCKED write errno=%d after %d MiB\n", errno, i);
                        return 0;
                }
        }
        printf("ESCAPED parked 48 MiB in /tmp under a 32 MiB limit\n");
        return 0;
}
