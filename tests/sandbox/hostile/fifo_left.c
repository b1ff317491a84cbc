/* Attack: leave a FIFO, a unix socket and a symlink loop in /box (a host that opens them blocks)
 * Source: isolate --special-files; catalogue "FIFOs/sockets/devices left in the box"
 * Expect: ACCEPTED quickly; the host does not hang on the cleanup */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(void)
{
        unlink("/box/main.c");
        printf("fifo %d\n", mkfifo("/box/main.c", 0666));
        printf("fifo %d\n", mkfifo("/box/out", 0666));
        printf("fifo %d\n", mkfifo("/tmp/fifo", 0666));
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, "/box/sock");
        printf("sock %d\n", bind(s, (struct sockaddr *)&a, sizeof a));
        printf("loop %d\n", symlink("/box/loop", "/box/loop"));
        printf("DONE\n");
        return 0;
}
