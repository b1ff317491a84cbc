/* Attack: look for privileges: capabilities, seccomp and no_new_privs state, uid/gid, groups
 * Source: amicontained / CDK / deepce container probing; catalogue "Container probing tools"
 * Expect: ACCEPTED; all capability sets zero, NoNewPrivs 1, Seccomp 2, uid and gid not 0 */
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp", 7) ||
                    !strncmp(line, "Uid", 3) || !strncmp(line, "Gid", 3) || !strncmp(line, "Groups", 6))
                        printf("STATUS %s", line);
        gid_t groups[64];
        int n = getgroups(64, groups);
        printf("IDS uid=%d euid=%d gid=%d egid=%d ngroups=%d\n", getuid(), geteuid(), getgid(), getegid(), n);
        if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0)
                printf("ESCAPED running as root\n");
        for (int i = 0; i < n; i++)
                if (groups[i] == 0)
                        printf("ESCAPED in group 0\n");
        return 0;
}
