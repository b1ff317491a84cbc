/* Attack: open files until the process runs out of descriptors
 * Source: udge openfiles
 * Expect: ACCEPTED with "BLOCKED open errno=24" (EMFILE) at RLIMIT_NOFILE (256) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

int main(void)
{
        for (int i = 0; i < 1000000; i++) {
                if (open("/dev/null", O_RDONLY) < 0) {
                        printf("BLOCKED open errno=%d after %d files\n", errno, i);
                        return 0;
                }
        }
        printf("ESCAPED 1000000 open files\n");
        return 0;
}
