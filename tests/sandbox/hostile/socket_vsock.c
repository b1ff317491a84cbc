/* Attack: AF_VSOCK sockets (a channel to the hypervisor and other boxes)
 * Source: isolate syscall flag 2; catalogue AF_VSOCK
 * Expect: ACCEPTED with "BLOCKED socket errno=97" (EAFNOSUPPORT) */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
        int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
        for (int i = 0; i < 4; i++) {
                int fd = socket(40 /* AF_VSOCK */, types[i], 0);
                if (fd >= 0)
                        printf("ESCAPED socket(AF_VSOCK, %d) = %d\n", types[i], fd);
                else
                        printf("BLOCKED socket(AF_VSOCK, %d) errno=%d\n", types[i], errno);
        }
        return 0;
}
