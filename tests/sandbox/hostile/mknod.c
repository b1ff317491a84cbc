/* Attack: create device nodes in /box and /tmp (disk, /dev/mem, a tty)
 * Source: catalogue "device nodes (nodev, mknod)"
 * Expect: ACCEPTED with "BLOCKED" for each (EPERM) */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int main(void)
{
        struct { const char *path; mode_t mode; unsigned maj, min; } n[] = {
                {"/box/sda", S_IFBLK | 0666, 8, 0},
                {"/box/mem", S_IFCHR | 0666, 1, 1},
                {"/tmp/tty", S_IFCHR | 0666, 4, 1},
                {"/box/vda", S_IFBLK | 0666, 253, 0},
        };
        for (int i = 0; i < 4; i++) {
                if (mknod(n[i].path, n[i].mode, makedev(n[i].maj, n[i].min)) == 0)
                        printf("ESCAPED mknod %s\n", n[i].path);
                else
                        printf("BLOCKED mknod %s errno=%d\n", n[i].path, errno);
        }
        return 0;
}
