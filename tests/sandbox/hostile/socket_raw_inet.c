/* Attack: raw IPv4 socket and packet crafting
 * Source: moby contrib/syscall-test raw.c; catalogue AF_PACKET/raw
 * Expect: ACCEPTED with "BLOCKED" (no CAP_NET_RAW: EPERM) */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
        int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        printf("%s raw socket errno=%d\n", fd >= 0 ? "ESCAPED" : "BLOCKED", fd < 0 ? errno : 0);
        fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
        printf("%s raw6 socket errno=%d\n", fd >= 0 ? "ESCAPED" : "BLOCKED", fd < 0 ? errno : 0);
        return 0;
}
