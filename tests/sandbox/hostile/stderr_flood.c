/* Attack: write to stderr forever
 * Source: DOMjudge test-fill-stderr
 * Expect: OUTPUT_LIMIT_EXCEEDED, stderr_truncated */
#include <string.h>
#include <unistd.h>

int main(void)
{
        char buf[8192];
        memset(buf, 'e', sizeof buf);
        for (;;)
                if (write(2, buf, sizeof buf) < 0)
                        return 1;
}
