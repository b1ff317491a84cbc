/* Attack: SIGSTOP / SIGKILL the parent (the supervisor, if it were visible)
 * Source: DOMjudge test-suspend-ppid
 * Expect: ACCEPTED: the parent is the namespace's init, which ignores these signals */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        pid_t pp = getppid();
        int r1 = kill(pp, SIGSTOP);
        int e1 = errno;
        int r2 = kill(pp, SIGKILL);
        int e2 = errno;
        usleep(200000);
        printf("ppid=%d stop=%d/%d kill=%d/%d\n", pp, r1, e1, r2, e2);
        printf("%s parent still there\n", getppid() == pp ? "BLOCKED" : "ESCAPED");
        return 0;
}
