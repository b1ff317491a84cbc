/* Attack: ignore SIGTERM (and every catchable signal) and keep sleeping
 * Source: udge sigterm
 * Expect: TIME_LIMIT_EXCEEDED; SIGKILL after the grace period */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_IGN);
        printf("ignoring signals\n");
        fflush(stdout);
        for (;;)
                sleep(1);
}
