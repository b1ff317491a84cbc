/* Attack: read /proc/self/mountinfo to learn host paths (worker dirs, users, boxes)
 * Source: catalogue "Reading what it should not: /proc/self/mountinfo (host paths)"
 * Expect: ACCEPTED; no host path such as /work, /root, /home or /run/sentinel appears */
#include <stdio.h>

int main(void)
{
        FILE *f = fopen("/proc/self/mountinfo", "r");
        if (!f) {
                printf("BLOCKED mountinfo\n");
                return 0;
        }
        char line[4096];
        while (fgets(line, sizeof line, f))
                printf("MOUNT %s", line);
        return 0;
}
