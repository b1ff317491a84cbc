/* Attack: set the setuid bit on a copy of itself in /box and run it, and run the host's
 * setuid-root binaries (su, mount, passwd) hoping for euid 0
 * Source: catalogue "setuid binaries (nosuid)"
 * Expect: ACCEPTED; euid never 0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc > 1) {
                printf("CHILD uid=%d euid=%d\n", getuid(), geteuid());
                if (geteuid() == 0)
                        printf("ESCAPED euid 0\n");
                return 0;
        }
        int in = open("/proc/self/exe", O_RDONLY), out = open("/box/suid", O_WRONLY | O_CREAT | O_TRUNC, 0755);
        char buf[65536];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
                write(out, buf, (size_t)n);
        close(out);
        printf("chmod u+s: %d\n", chmod("/box/suid", 04755));
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
                execl("/box/suid", "suid", "child", (char *)NULL);
                _exit(127);
        }
        waitpid(p, NULL, 0);
        const char *suid[] = {"/usr/bin/su", "/usr/bin/mount", "/usr/bin/passwd", "/usr/bin/newgrp", "/usr/bin/sudo"};
        for (int i = 0; i < 5; i++) {
                struct stat st;
                if (stat(suid[i], &st) == 0 && (st.st_mode & S_ISUID))
                        printf("SUID present %s (nosuid and no_new_privs make it harmless)\n", suid[i]);
        }
        return 0;
}
