/* Attack: AF_PACKET sockets (raw frames, a frequent kernel CVE source)
 * Source: catalogue Socket families: AF_PACKET/raw
 * Expect: ACCEPTED with "BLOCKED socket errno=97" (EAFNOSUPPORT) */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
        int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
        for (int i = 0; i < 4; i++) {
                int fd = socket(17 /* AF_PACKET */, types[i], 0);
                if (fd >= 0)
                        printf("ESCAPED socket(AF_PACKET, %d) = %d\n", types[i], fd);
                else
                        printf("BLOCKED socket(AF_PACKET, %d) errno=%d\n", types[i], errno);
        }
        return 0;
}
