/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: a pooled network namespace holds an up loopback and nothing else, and leaves ours alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "netns.h"

/* Shared with the forked child, which makes the checks inside the namespace. */
static ino_t own_netns_ino(void)
{
        struct stat st;
        return stat("/proc/self/ns/net", &st) < 0 ? 0 : st.st_ino;
}

static ino_t fd_ino(int fd)
{
        struct stat st;
        return fstat(fd, &st) < 0 ? 0 : st.st_ino;
}

/* A TCP listener on 127.0.0.1, port chosen by the kernel. Returns the fd or -errno. */
static int listen_loopback(uint16_t *ret_port)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0 ||
                getsockname(s, (struct sockaddr *)&a, &len) < 0)
                return -errno;
        *ret_port = ntohs(a.sin_port);
        return TAKE_FD(s);
}

/* Connects to 127.0.0.1:port. Returns the fd or -errno. */
static int connect_loopback(uint16_t port)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
                return -errno;
        return TAKE_FD(s);
}

static void inside(int ns_fd, uint16_t host_port)
{
        if (setns(ns_fd, CLONE_NEWNET) < 0) {
                CHECK(false, "setns: %m");
                return;
        }
        CHECK(own_netns_ino() == fd_ino(ns_fd), "setns entered another namespace");

        /* Only the loopback interface. */
        struct if_nameindex *ifs = if_nameindex();
        CHECK(ifs != NULL, "if_nameindex: %m");
        size_t n = 0;
        bool only_lo = true;
        for (struct if_nameindex *i = ifs; i && i->if_index != 0; i++, n++)
                if (strcmp(i->if_name, "lo") != 0) {
                        only_lo = false;
                        printf("  unexpected interface %s\n", i->if_name);
                }
        CHECK(n == 1 && only_lo, "%zu interfaces", n);
        if (ifs)
                if_freenameindex(ifs);

        /* ... and it is up. */
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {};
        strncpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name - 1);
        CHECK(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS: %m");
        CHECK(ifr.ifr_flags & IFF_UP, "lo flags 0x%x", (unsigned)ifr.ifr_flags);

        /* A server inside serves a client inside. */
        uint16_t port = 0;
        _cleanup_close_ int srv = listen_loopback(&port);
        CHECK(srv >= 0, "listen inside: %s", strerror(-srv));
        if (srv >= 0) {
                _cleanup_close_ int c = connect_loopback(port);
                CHECK(c >= 0, "connect inside: %s", strerror(-c));
                _cleanup_close_ int a = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
                CHECK(a >= 0, "accept: %m");
                char ch = 0;
                CHECK(c >= 0 && a >= 0 && write(c, "!", 1) == 1 && read(a, &ch, 1) == 1 && ch == '!',
                        "a byte across the loopback");
        }

        /* The host's loopback is not this one: its listener is unreachable. */
        int h = connect_loopback(host_port);
        CHECK(h == -ECONNREFUSED, "connect to the host's 127.0.0.1:%u: %s", (unsigned)host_port,
                h >= 0 ? "connected" : strerror(-h));
        safe_close(h);
}

/* Checks on fd, a namespace from netns_new_loopback(); host is our own namespace's inode. */
static void checks(int fd, ino_t host)
{
        CHECK(own_netns_ino() == host, "our network namespace changed");
        CHECK(fd_ino(fd) != 0 && fd_ino(fd) != host, "the new namespace is ours");
        CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is not O_CLOEXEC");

        /* A second one is another namespace. */
        _cleanup_close_ int fd2 = -1;
        int r = netns_new_loopback(&fd2);
        CHECK(r == 0 && fd2 >= 0, "second netns_new_loopback: %s", strerror(-r));
        CHECK(fd2 < 0 || (fd_ino(fd2) != fd_ino(fd) && fd_ino(fd2) != host), "two calls, one namespace");
        CHECK(own_netns_ino() == host, "our network namespace changed");

        /* A listener on the host's loopback, opened before the child enters the new namespace. */
        uint16_t host_port = 0;
        _cleanup_close_ int host_srv = listen_loopback(&host_port);
        CHECK(host_srv >= 0, "listen on the host: %s", strerror(-host_srv));
        if (host_srv >= 0) {
                /* Reachable from the host itself. */
                _cleanup_close_ int c = connect_loopback(host_port);
                CHECK(c >= 0, "connect on the host: %s", strerror(-c));
                _cleanup_close_ int a = accept4(host_srv, NULL, NULL, SOCK_CLOEXEC);
                CHECK(a >= 0, "accept on the host: %m");

                pid_t pid = fork();
                if (pid == 0) {
                        inside(fd, host_port);
                        _exit(0);
                }
                int status = 0;
                CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                        "child status 0x%x", status);
        }
        CHECK(own_netns_ino() == host, "our network namespace changed");

}

int main(void)
{
        /* Line buffered: forked children must not inherit unwritten output. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (geteuid() != 0) {
                printf("skipped: needs root (CAP_SYS_ADMIN for a network namespace)\n");
                return 77;
        }

        ino_t host = own_netns_ino();
        CHECK(host != 0, "stat /proc/self/ns/net: %m");

        _cleanup_close_ int fd = -1;
        int r = netns_new_loopback(&fd);
        if (r == -EPERM) {
                printf("skipped: cannot create a network namespace here\n");
                return 77;
        }
        CHECK(r == 0 && fd >= 0, "netns_new_loopback: %s", strerror(-r));
        if (r == 0)
                checks(fd, host);
        return test_summary();
}
