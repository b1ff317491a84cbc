/* Attack: stop itself with SIGSTOP (a stopped process ignores SIGTERM)
 * Source: CMS timeout-sigstop
 * Expect: TIME_LIMIT_EXCEEDED by wall time; the stopped process is still killed */
#include <signal.h>
#include <stdio.h>

int main(void)
{
        printf("stopping\n");
        fflush(stdout);
        raise(SIGSTOP);
        printf("ESCAPED continued\n");
        return 0;
}
