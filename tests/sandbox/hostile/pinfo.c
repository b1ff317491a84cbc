/* Attack: learn about the worker: pid, ppid, cwd, hostname, login, uid
 * Source: udge pinfo
 * Expect: ACCEPTED; cwd /box, pid 2, ppid 1, a hostname other than the host's */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
        char cwd[4096];
        struct utsname u;
        uname(&u);
        printf("PID %d\nPPID %d\nCWD %s\nHOSTNAME %s\nDOMAIN %s\nUID %d\nLOGIN %s\n", getpid(), getppid(),
                getcwd(cwd, sizeof cwd) ? cwd : "?", u.nodename, u.domainname, getuid(),
                getlogin() ? getlogin() : "(none)");
        return 0;
}
