/* Attack: kill(-1, SIGKILL): kill every process the sandbox uid can signal
 * Source: catalogue "Stopping the supervisor: kill(-1, SIGKILL) (needs pid ns or unique uid)"
 * Expect: ACCEPTED; only the box's own processes die (host listener threads stay alive) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
        pid_t child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        usleep(100000);
        int r = kill(-1, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        printf("kill(-1)=%d errno=%d child %s\n", r, r ? errno : 0,
                WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "killed" : "alive");
        r = kill(-1, SIGTERM);
        printf("survived r=%d\n", r);
        return 0;
}
