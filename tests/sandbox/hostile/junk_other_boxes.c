/* Attack: reach other boxes' and the launcher's directories from inside a box
 * Source: udge junk
 * Expect: ACCEPTED with "BLOCKED" for every path */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        const char *paths[] = {"/run/sentinel", "/run/sentinel/boxes", "/box/../run", "/var/lib",
                               "/home", "/root", "/work", "/srv", "/var/tmp"};
        for (unsigned i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                int fd = open(paths[i], O_RDONLY | O_DIRECTORY);
                if (fd < 0) {
                        printf("BLOCKED %s errno=%d\n", paths[i], errno);
                        continue;
                }
                printf("ESCAPED %s is visible\n", paths[i]);
                close(fd);
        }
        return 0;
}
