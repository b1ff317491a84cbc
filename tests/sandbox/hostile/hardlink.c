/* Attack: hard links to files outside the box (to modify or keep them)
 * Source: catalogue "Hard links to host files (protected_hardlinks)"
 * Expect: ACCEPTED with "BLOCKED" (EXDEV across mounts, or EPERM) */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        const char *src[] = {"/usr/bin/bash", "/etc/passwd", "/proc/self/exe", "/tmp"};
        for (int i = 0; i < 4; i++) {
                char dst[64];
                snprintf(dst, sizeof dst, "/box/hl%d", i);
                if (link(src[i], dst) == 0)
                        printf("ESCAPED linked %s\n", src[i]);
                else
                        printf("BLOCKED link %s errno=%d\n", src[i], errno);
        }
        return 0;
}
