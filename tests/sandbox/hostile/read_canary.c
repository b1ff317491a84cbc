/* Attack: read a world-readable file on the host by its path (the expected answer, other tests)
 * Source: udge sol-searcher; catalogue "Host files"
 * Expect: ACCEPTED with "BLOCKED" (the host path does not exist in the box) */
#include <errno.h>
#include <stdio.h>

int main(void)
{
        FILE *f = fopen("@CANARY@", "r");
        if (!f) {
                printf("BLOCKED open canary errno=%d\n", errno);
                return 0;
        }
        char buf[256];
        size_t n = fread(buf, 1, sizeof buf, f);
        printf("ESCAPED ");
        fwrite(buf, 1, n, stdout);
        return 0;
}
