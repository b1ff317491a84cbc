/* Attack: write to stdout forever
 * Source: udge ole / stdout-1m; DOMjudge test-fill-stdout; QingdaoU output_size
 * Expect: OUTPUT_LIMIT_EXCEEDED, stdout_truncated, stdout kept at most at the cap */
#include <string.h>
#include <unistd.h>

int main(void)
{
        char buf[8192];
        memset(buf, 'o', sizeof buf);
        for (;;)
                if (write(1, buf, sizeof buf) < 0)
                        return 1;
}
