/* Attack: read the host's /etc/shadow
 * Source: bwrap test-run; DOMjudge test-permissions
 * Expect: ACCEPTED with "BLOCKED" (the box's /etc has passwd, group and hosts only) */
#include <errno.h>
#include <stdio.h>

int main(void)
{
        FILE *f = fopen("/etc/shadow", "r");
        if (!f) {
                printf("BLOCKED open /etc/shadow errno=%d\n", errno);
        } else {
                char buf[4096];
                size_t n = fread(buf, 1, sizeof buf, f);
                printf("ESCAPED read %zu bytes\n", n);
                fwrite(buf, 1, n, stdout);
        }
        FILE *g = fopen("/etc/gshadow", "r");
        printf("%s /etc/gshadow\n", g ? "ESCAPED" : "BLOCKED");
        return 0;
}
