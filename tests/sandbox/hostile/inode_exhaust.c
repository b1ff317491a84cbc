/* Attack: create empty files until the file system runs out of inodes
 * Source: CMS write-many-files
 * Expect: ACCEPTED with "BLOCKED create errno=28" (the box's own inode limit) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        for (int i = 0; i < 1000000; i++) {
                char name[64];
                snprintf(name, sizeof name, "/box/i%d", i);
                int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd < 0) {
                        printf("BLOCKED create errno=%d after %d files\n", errno, i);
                        return 0;
                }
                close(fd);
        }
        printf("ESCAPED created 1000000 files\n");
        return 0;
}
