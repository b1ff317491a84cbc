/* Attack: send UDP datagrams to the host's loopback and to a public DNS server
 * Source: DOMjudge test-network; udge socket
 * Expect: ACCEPTED; the host's UDP socket receives nothing */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

static void try(int fd, const char *ip, int port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, ip, &a.sin_addr);
        ssize_t n = sendto(fd, "leak", 4, 0, (struct sockaddr *)&a, sizeof a);
        printf("sendto %s:%d = %zd errno=%d\n", ip, port, n, n < 0 ? errno : 0);
}

int main(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        try(fd, "127.0.0.1", @UDPPORT@);
        try(fd, "8.8.8.8", 53);
        try(fd, "255.255.255.255", @UDPPORT@);
        return 0;
}
