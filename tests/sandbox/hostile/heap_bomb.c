/* Attack: heap memory bomb, malloc and touch 1 MiB blocks forever
 * Source: CMS oom-heap; udge memory / 180mib
 * Expect: MEMORY_LIMIT_EXCEEDED */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
        for (size_t total = 0;; total += 1) {
                char *p = malloc(1 << 20);
                if (!p) {
                        printf("BLOCKED malloc after %zu MiB\n", total);
                        return 0;
                }
                memset(p, 1, 1 << 20);
                if (total == 4096) {
                        printf("ESCAPED 4 GiB allocated\n");
                        return 0;
                }
        }
}
