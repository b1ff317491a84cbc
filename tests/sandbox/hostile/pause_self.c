/* Attack: pause() forever
 * Source: CMS timeout-pause
 * Expect: TIME_LIMIT_EXCEEDED by wall time */
#include <unistd.h>

int main(void)
{
        pause();
        return 0;
}
