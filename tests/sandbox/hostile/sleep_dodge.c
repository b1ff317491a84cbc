/* Attack: sleep instead of computing, to dodge a CPU-only limit
 * Source: CMS timeout-sleep; DOMjudge test-sleep
 * Expect: TIME_LIMIT_EXCEEDED by wall time */
#include <unistd.h>

int main(void)
{
        sleep(100);
        return 0;
}
