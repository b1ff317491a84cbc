/* Attack: burn CPU in forked children while the parent waits (children's CPU must count)
 * Source: QingdaoU child_proc_cpu_time_limit; DOMjudge runguard
 * Expect: TIME_LIMIT_EXCEEDED */
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
        for (int i = 0; i < 2; i++)
                if (fork() == 0)
                        for (volatile unsigned long j = 0;; j++)
                                ;
        while (wait(0) > 0)
                ;
        return 0;
}
