/* Attack: thread bomb, threads that never exit
 * Source: DOMjudge runguard nprocs tests; catalogue "thread bomb"
 * Expect: ACCEPTED, "BLOCKED pthread_create" below the --pids limit */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
        (void)arg;
        for (;;)
                pause();
        return NULL;
}

int main(void)
{
        pthread_t t;
        int n = 0, r = 0;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 * 1024);
        while (n < 100000 && (r = pthread_create(&t, &a, sleeper, NULL)) == 0)
                n++;
        if (r)
                printf("BLOCKED pthread_create errno=%d (%s) after %d threads\n", r, strerror(r), n);
        else
                printf("ESCAPED %d threads\n", n);
        return 0;
}
