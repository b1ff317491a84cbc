/* Attack: connect to a TCP service on the host's loopback, and to the internet
 * Source: DOMjudge test-network; udge socket
 * Expect: ACCEPTED with "BLOCKED" (the box's network namespace is empty: ECONNREFUSED, ENETUNREACH) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static void try(const char *ip, int port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, ip, &a.sin_addr);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
                printf("BLOCKED socket errno=%d\n", errno);
                return;
        }
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
                printf("ESCAPED connected to %s:%d\n", ip, port);
        else
                printf("BLOCKED connect %s:%d errno=%d\n", ip, port, errno);
        close(fd);
}

int main(void)
{
        try("127.0.0.1", @PORT@);
        try("1.1.1.1", 80);
        try("10.0.2.2", 22);
        return 0;
}
