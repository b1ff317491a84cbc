/* Attack: fork bomb, every process forks forever
 * Source: udge forkbomb; CMS fork; DOMjudge runguard forky.sh
 * Expect: TIME_LIMIT_EXCEEDED (pids cgroup + RLIMIT_NPROC stop the growth, CPU limit ends it) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
        int reported = 0;
        for (;;) {
                if (fork() < 0 && !reported++) {
                        printf("BLOCKED fork errno=%d (%s)\n", errno, strerror(errno));
                        fflush(stdout);
                }
        }
}
