/* Attack: burn CPU on 4 threads to beat per-thread CPU accounting
 * Source: DOMjudge threads.cc; QingdaoU child_proc_cpu_time_limit
 * Expect: TIME_LIMIT_EXCEEDED with cpu_time (summed over threads) above wall_time */
#include <pthread.h>

static void *burn(void *arg)
{
        (void)arg;
        for (volatile unsigned long i = 0;; i++)
                ;
        return 0;
}

int main(void)
{
        pthread_t t;
        for (int i = 0; i < 3; i++)
                pthread_create(&t, 0, burn, 0);
        burn(0);
}
