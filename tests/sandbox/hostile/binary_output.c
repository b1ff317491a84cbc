/* Attack: binary output: every byte value, NULs, invalid UTF-8 and a 200 KB line without newline
 * Source: catalogue Output: "binary output, long lines"
 * Expect: ACCEPTED with valid JSON (sentinel-run must not break or truncate early) */
#include <stdio.h>

int main(void)
{
        for (int round = 0; round < 4; round++)
                for (int c = 0; c < 256; c++)
                        putchar(c);
        putchar('\n');
        for (int i = 0; i < 200000; i++)
                putchar('L');
        fputs("\nEND", stdout);
        return 0;
}
