/* Attack: look for descriptors leaked into the box (host dirs, cgroupfs, sockets, pipes)
 * Source: runc CVE-2024-21626; Sandbox2 close_fds / print_fds
 * Expect: ACCEPTED; only 0, 1, 2 (and the directory fd of the listing itself) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return 2;
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                int fd = atoi(e->d_name);
                char path[64], target[4096] = "";
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(path, target, sizeof target - 1);
                if (n > 0)
                        target[n] = 0;
                if (fd == self)
                        continue;
                printf("%s %d -> %s\n", fd <= 2 ? "FD" : "ESCAPED leaked fd", fd, target);
        }
        char cwd[4096];
        printf("CWD %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
        return 0;
}
