/* SPDX-License-Identifier: Apache-2.0 */
/* Pooled network namespaces. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

static int loopback_up(void)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct ifreq ifr = {};
        strncpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name - 1);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

int netns_new_loopback(int *ret_fd)
{
        _cleanup_close_ int orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (orig < 0)
                return -errno;
        if (unshare(CLONE_NEWNET) < 0)
                return -errno;

        int r = loopback_up();
        _cleanup_close_ int fd = -1;
        if (r == 0) {
                fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = -errno;
        }
        /* Always go back, whatever happened above. */
        if (setns(orig, CLONE_NEWNET) < 0)
                return -errno;
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
