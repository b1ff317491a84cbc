/* Attack: write a binary to /tmp and execute it (outside the allowed execute paths)
 * Source: CMS executing-output; catalogue Landlock execute rules
 * Expect: ACCEPTED with "BLOCKED exec /tmp" (EACCES); loading it through ld.so is informational */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc > 1) {
                printf("ESCAPED executing from %s\n", argv[1]);
                return 0;
        }
        int in = open("/proc/self/exe", O_RDONLY), out = open("/tmp/x", O_WRONLY | O_CREAT | O_TRUNC, 0755);
        char buf[65536];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
                write(out, buf, (size_t)n);
        close(out);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
                execl("/tmp/x", "x", "/tmp", (char *)NULL);
                printf("BLOCKED exec /tmp errno=%d\n", errno);
                fflush(stdout);
                _exit(0);
        }
        waitpid(p, NULL, 0);
        fflush(stdout);
        p = fork();
        if (p == 0) {
                close(1); /* informational only: ld.so maps it without execve */
                open("/dev/null", O_WRONLY);
                execl("/lib64/ld-linux-x86-64.so.2", "ld.so", "/tmp/x", "ld.so", (char *)NULL);
                _exit(127);
        }
        int st = 0;
        waitpid(p, &st, 0);
        printf("INFO ld.so /tmp/x exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
}
