/* Attack: write to the read-only system: replace a binary in /usr, edit /etc, create files in /
 * Source: CMS write-forbidden-*; catalogue "Host files"
 * Expect: ACCEPTED with "BLOCKED" for each (EROFS or EACCES) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
        const char *paths[] = {"/usr/bin/python3", "/usr/bin/sentinel-evil", "/etc/passwd", "/etc/evil", "/evil",
                               "/usr/lib/evil.so", "/proc/evil", "/dev/evil"};
        for (unsigned i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                int fd = open(paths[i], O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0)
                        printf("ESCAPED opened %s for writing\n", paths[i]);
                else
                        printf("BLOCKED %s errno=%d\n", paths[i], errno);
        }
        if (unlink("/usr/bin/bash") == 0)
                printf("ESCAPED unlinked /usr/bin/bash\n");
        if (mkdir("/usr/evil", 0755) == 0)
                printf("ESCAPED mkdir /usr/evil\n");
        return 0;
}
