/* Attack: double fork + setsid: an orphan in its own session sleeps 30 s after the parent exits
 * Source: DOMjudge stress-test-fork-setsid, test-fork-parent-exit2; udge dangling
 * Expect: ACCEPTED quickly (the parent exits 0) and no process left behind */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
        pid_t p = fork();
        if (p == 0) {
                setsid();
                if (fork() == 0) {
                        close(0);
                        close(1);
                        close(2);
                        sleep(30);
                        _exit(0);
                }
                _exit(0);
        }
        waitpid(p, NULL, 0);
        printf("parent done\n");
        return 0;
}
