/* Attack: read the kernel log through /dev/kmsg and write to raw devices
 * Source: catalogue "dmesg/syslog(2)//dev/kmsg"; DOMjudge test-fill-syslog
 * Expect: ACCEPTED with "BLOCKED" for each (/dev has null, zero, full, random, urandom only) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

int main(void)
{
        const char *devs[] = {"/dev/kmsg", "/dev/mem", "/dev/sda", "/dev/vda", "/dev/tty", "/dev/console",
                              "/dev/shm", "/dev/log", "/dev/fuse", "/dev/net/tun", "/dev/kvm"};
        for (unsigned i = 0; i < sizeof devs / sizeof devs[0]; i++) {
                int fd = open(devs[i], O_RDWR);
                if (fd < 0)
                        printf("BLOCKED %s errno=%d\n", devs[i], errno);
                else
                        printf("ESCAPED opened %s\n", devs[i]);
        }
        int fd = open("/dev/null", O_WRONLY);
        printf("%s /dev/null\n", fd >= 0 ? "OPEN" : "MISSING");
        return 0;
}
