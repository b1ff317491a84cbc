/* Attack: unbounded recursion with big frames to blow the stack past the memory limit
 * Source: DOMjudge test-stacksize
 * Expect: MEMORY_LIMIT_EXCEEDED or RUNTIME_ERROR (SIGSEGV at RLIMIT_STACK) */
#include <stdio.h>
#include <string.h>

static long deep(long n)
{
        volatile char frame[64 * 1024];
        memset((char *)frame, (int)n, sizeof frame);
        return n > 1000000 ? 0 : deep(n + 1) + frame[n % sizeof frame];
}

int main(void)
{
        printf("ESCAPED %ld\n", deep(0));
        return 0;
}
