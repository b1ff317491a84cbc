/* Attack: connect to an abstract unix socket the host listens on (abstract names are per
 * network namespace, and Landlock scopes them)
 * Source: catalogue Side channels "abstract UNIX sockets and loopback ports in a shared netns"
 * Expect: ACCEPTED with "BLOCKED" (ECONNREFUSED or EPERM) */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(void)
{
        const char *name = "@ABSTRACT@";
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        memcpy(a.sun_path + 1, name, strlen(name));
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name)) == 0)
                printf("ESCAPED connected to the host's abstract socket\n");
        else
                printf("BLOCKED abstract connect errno=%d\n", errno);
        /* systemd's and D-Bus's well-known sockets, for good measure */
        int fd2 = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un b = {.sun_family = AF_UNIX};
        strcpy(b.sun_path, "/run/dbus/system_bus_socket");
        printf("%s dbus socket\n", connect(fd2, (struct sockaddr *)&b, sizeof b) == 0 ? "ESCAPED" : "BLOCKED");
        return 0;
}
