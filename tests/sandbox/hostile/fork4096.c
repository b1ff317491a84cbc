/* Attack: fork 4096 sleeping children, count how many the sandbox allows
 * Source: udge fork4096
 * Expect: ACCEPTED, "BLOCKED fork" well below 4096 (the --pids limit) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        int n = 0;
        for (int i = 0; i < 4096; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p < 0) {
                        printf("BLOCKED fork errno=%d after %d children\n", errno, n);
                        fflush(stdout);
                        break;
                }
                n++;
        }
        if (n >= 4096)
                printf("ESCAPED forked %d children\n", n);
        printf("CHILDREN %d\n", n);
        return 0; /* the children are left behind on purpose: the sandbox must reap them */
}
