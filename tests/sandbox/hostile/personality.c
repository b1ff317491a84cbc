/* Attack: personality(READ_IMPLIES_EXEC) then exec: every readable mapping becomes executable
 * Source: catalogue personality (READ_IMPLIES_EXEC); Sandbox2 personality testcase
 * Expect: SECURITY_VIOLATION (blocked system call: personality) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc > 1) {
                FILE *f = fopen("/proc/self/maps", "r");
                char line[512];
                int rx = 0;
                while (f && fgets(line, sizeof line, f))
                        if (strstr(line, "[heap]") && line[strcspn(line, " ") + 3] == 'x')
                                rx = 1;
                printf("after exec: personality=%#x heap %s\n", personality(0xffffffff), rx ? "executable" : "not executable");
                return 0;
        }
        printf("TRYING personality\n");
        fflush(stdout);
        int r = personality(READ_IMPLIES_EXEC);
        printf("personality(READ_IMPLIES_EXEC)=%d errno=%d\n", r, r < 0 ? errno : 0);
        fflush(stdout);
        execl("/proc/self/exe", argv[0], "again", (char *)NULL);
        printf("exec failed errno=%d\n", errno);
        return 0;
}
