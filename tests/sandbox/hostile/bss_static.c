/* Attack: 512 MiB zero-initialised static array (bss), then touched
 * Source: CMS oom-static; DOMjudge test-memstatic64
 * Expect: MEMORY_LIMIT_EXCEEDED */
#include <stdio.h>
#include <string.h>

static char big[512u << 20];

int main(void)
{
        memset(big, 7, sizeof big);
        printf("ESCAPED touched %zu bytes\n", sizeof big);
        return big[12345];
}
