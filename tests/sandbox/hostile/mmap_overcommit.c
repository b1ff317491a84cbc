/* Attack: map 16 GiB with MAP_NORESERVE (allowed: it is not memory yet), then touch it
 * Source: QingdaoU memory1/2/3 (RLIMIT_AS vs cgroup accounting)
 * Expect: MEMORY_LIMIT_EXCEEDED once the touched pages pass the limit */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
        size_t len = (size_t)16 << 30;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
                printf("mmap of 16 GiB refused (RLIMIT_AS?)\n");
                p = mmap(NULL, len = (size_t)1 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return 1;
        }
        printf("mapped %zu MiB\n", len >> 20);
        fflush(stdout);
        for (size_t i = 0; i < len; i += 4096)
                p[i] = 1;
        printf("ESCAPED touched %zu MiB\n", len >> 20);
        return 0;
}
