/* Attack: netlink sockets (routing, nf_tables, audit: big kernel attack surface)
 * Source: catalogue Socket families: AF_NETLINK; moby default profile
 * Expect: ACCEPTED with "BLOCKED socket errno=97" (EAFNOSUPPORT) */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
        int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
        for (int i = 0; i < 4; i++) {
                int fd = socket(16 /* AF_NETLINK */, types[i], 0);
                if (fd >= 0)
                        printf("ESCAPED socket(AF_NETLINK, %d) = %d\n", types[i], fd);
                else
                        printf("BLOCKED socket(AF_NETLINK, %d) errno=%d\n", types[i], errno);
        }
        return 0;
}
