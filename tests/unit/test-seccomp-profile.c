/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of seccomp-profile: validation messages, and the compiled filters' behaviour in children. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "json-util.h"
#include "seccomp-profile.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProgram *, seccomp_program_free)
#define _cleanup_program_ _cleanup_(seccomp_program_freep)

static char *policy_path(const char *name)
{
        const char *src = getenv("SENTINEL_SOURCE_DIR");
        char *p = NULL;
        if (asprintf(&p, "%s/sandbox-policies/seccomp/%s.json", src ? src : ".", name) < 0)
                abort();
        return p;
}

static SeccompProgram *load_policy(const char *name, unsigned flags)
{
        _cleanup_free_ char *path = policy_path(name);
        char err[512] = "";
        SeccompProgram *p = NULL;
        int r = seccomp_program_from_file(path, flags, &p, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "%s: %s (%s)\n", path, err, strerror(-r));
                return NULL;
        }
        return p;
}

/* Compiles text and expects -EINVAL with a message containing want. */
static bool rejects(const char *text, const char *want)
{
        json_auto_t *j = NULL;
        char err[512] = "";
        int r = json_load_buffer(text, strlen(text), 32, &j, err, sizeof err);
        if (r == 0) {
                SeccompProgram *p = NULL;
                r = seccomp_program_from_json(j, "t", 0, &p, err, sizeof err);
                seccomp_program_free(p);
        }
        if (r != -EINVAL || !strstr(err, want)) {
                fprintf(stderr, "  input %s\n  got %d \"%s\", wanted \"%s\"\n", text, r, err, want);
                return false;
        }
        return true;
}

/* Writes text to a temporary file and loads it, expecting an error mentioning want. */
static bool file_rejects(const char *text, const char *want)
{
        char path[] = "/tmp/test-seccomp-XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return false;
        char err[512] = "";
        SeccompProgram *p = NULL;
        int r = seccomp_program_from_file(path, 0, &p, err, sizeof err);
        seccomp_program_free(p);
        unlink(path);
        if (r >= 0 || !strstr(err, want)) {
                fprintf(stderr, "  got %d \"%s\", wanted \"%s\"\n", r, err, want);
                return false;
        }
        return true;
}

static void test_validation(void)
{
        const char *ok = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\",\"vm86\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"comment\":\"x\",\"includes\":{}}]}";
        json_auto_t *j = NULL;
        char err[512] = "";
        CHECK(json_load_buffer(ok, strlen(ok), 32, &j, err, sizeof err) == 0);
        _cleanup_program_ SeccompProgram *p = NULL;
        CHECK(seccomp_program_from_json(j, "t", 0, &p, err, sizeof err) == 0);
        CHECK(p && p->fprog.len > 0 && !p->uses_notify && strcmp(p->name, "t") == 0);

        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_NOPE\",\"syscalls\":[]}", "defaultAction: unknown action"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                      "\"action\":\"SCMP_ACT_KILLL\"}]}",
                "syscalls[0].action: unknown action \"SCMP_ACT_KILLL\""));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":"
                      "\"SCMP_ACT_ERRNO\"},{\"names\":[\"mount\",\"mountt\"],\"action\":\"SCMP_ACT_KILL\"}]}",
                "syscalls[1].names[1]: unknown syscall \"mountt\""));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\\nb\"],"
                      "\"action\":\"SCMP_ACT_KILL\"}]}",
                "syscalls[0].names[0]: not a syscall name"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ioctl\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"args\":[{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQQ\"}]}]}",
                "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_EQQ\""));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ioctl\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0].args[0].index: 6 is out of range"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ioctl\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "syscalls[0].args[0].value: -1 is out of range"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ioctl\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\",\"x\":1}]}]}",
                "syscalls[0].args[0]: 1 object item(s) left unpacked: x"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":\"getpid\","
                      "\"action\":\"SCMP_ACT_KILL\"}]}",
                "syscalls[0].names: expected an array"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[1],"
                      "\"action\":\"SCMP_ACT_KILL\"}]}",
                "syscalls[0].names[0]: expected a string"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],"
                      "\"action\":\"SCMP_ACT_KILL\"}]}",
                "syscalls[0].names: empty"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                      "\"action\":7}]}",
                "syscalls[0].action: expected a string"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "syscalls: expected an array"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":"
                      "\"SCMP_ACT_ERRNO\",\"errnoRet\":4096}]}",
                "syscalls[0].errnoRet: 4096 is outside 0..4095"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"errnoRet\":1}]}",
                "syscalls[0].errnoRet: not allowed with SCMP_ACT_KILL"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":"
                      "\"SCMP_ACT_KILL\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}",
                "syscalls[0].includes: conditional rules are not supported"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "syscalls"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[],\"listenerPath\":\"/x\"}",
                "listenerPath"));
        CHECK(rejects("[]", "profile: expected an object"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_AARCH64\"],"
                      "\"syscalls\":[]}",
                "architectures: the native architecture is not listed"));
        CHECK(rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"],"
                      "\"syscalls\":[]}",
                "architectures[0]: unknown architecture \"SCMP_ARCH_Z80\""));

        CHECK(file_rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]} x", "1:"));
        char deep[200] = "";
        for (int i = 0; i < 40; i++)
                strcat(deep, "[");
        CHECK(file_rejects(deep, "nested deeper than 32"));
}

static void install(const SeccompProgram *p, unsigned flags, int *ret_listener)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(100);
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p->fprog);
        if (r < 0)
                _exit(101);
        if (ret_listener)
                *ret_listener = (int)r;
}

/* Runs fn in a child under the program; returns the wait status. fn's return is the exit code. */
static int in_child(const SeccompProgram *p, int (*fn)(void))
{
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                install(p, 0, NULL);
                _exit(fn());
        }
        int status;
        if (waitpid(pid, &status, 0) < 0)
                abort();
        return status;
}

static bool exited_ok(int status)
{
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
static bool sigsys(int status)
{
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static int do_getpid(void)
{
        return getpid() > 0 ? 0 : 1;
}
static int do_unshare(void)
{
        unshare(CLONE_NEWUSER);
        return 2;
}
static int do_clone3(void)
{
        return syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS ? 0 : 1;
}
static int do_io_uring(void)
{
        return syscall(SYS_io_uring_setup, 1, NULL) < 0 && errno == ENOSYS ? 0 : 1;
}
static int do_sockets(void)
{
        if (socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 || errno != EAFNOSUPPORT)
                return 1;
        if (socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 || errno != EAFNOSUPPORT)
                return 2;
        if (socket(AF_APPLETALK, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 || errno != EAFNOSUPPORT)
                return 3;
        if (syscall(SYS_socket, (1UL << 32) | AF_INET, SOCK_STREAM, 0) >= 0 || errno != EAFNOSUPPORT)
                return 4;
        int sv[2];
        if (socketpair(AF_NETLINK, SOCK_RAW, 0, sv) >= 0 || errno != EAFNOSUPPORT)
                return 5;
        if (socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) < 0)
                return 6;
        if (socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 && errno != EAFNOSUPPORT)
                return 7;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return 8;
        return 0;
}
static int do_int80(void)
{
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* i386 getpid */
        return r > 0 ? 3 : 4;
}
static int do_x32(void)
{
        syscall(0x40000000 | SYS_getpid);
        return 3;
}
static int do_tiocsti_high(void)
{
        char c = 'x';
        syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c);
        return 3;
}
static int do_tiocsti(void)
{
        char c = 'x';
        ioctl(0, TIOCSTI, &c);
        return 3;
}
static int do_personality_ok(void)
{
        if (personality(0xffffffff) < 0)
                return 1;
        if (personality(PER_LINUX) < 0)
                return 2;
        if (personality(PER_LINUX32) < 0 || personality(PER_LINUX) < 0)
                return 3;
        return 0;
}
static int do_personality_rie(void)
{
        personality(READ_IMPLIES_EXEC);
        return 3;
}
static int do_personality_hidden(void)
{
        /* bit 31 set to dodge the flag rules, but not the query */
        personality(0x80000000 | READ_IMPLIES_EXEC);
        return 3;
}
static int do_personality_almost_query(void)
{
        personality(0xfffffffe);
        return 3;
}
static int do_clone_newnet(void)
{
        long r = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL);
        if (r == 0)
                _exit(0);
        return 3;
}
static int do_fork(void)
{
        pid_t pid = fork();
        if (pid == 0)
                _exit(7);
        int status;
        return pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 7 ? 0 : 1;
}
static int do_mknod(void)
{
        char path[] = "/tmp/test-seccomp-nodXXXXXX";
        if (!mkdtemp(path))
                return 10;
        char node[64];
        snprintf(node, sizeof node, "%s/n", path);
        int r = mknod(node, S_IFCHR | 0600, makedev(1, 3));
        int e = errno;
        unlink(node);
        int fifo = mknod(node, S_IFIFO | 0600, 0);
        unlink(node);
        rmdir(path);
        if (r == 0 || e != EPERM)
                return 1;
        return fifo == 0 ? 0 : 2;
}
static int do_fcntl_notify(void)
{
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 10;
        if (fcntl(fd, F_NOTIFY, DN_ACCESS) == 0 || errno != EINVAL)
                return 1;
        return fcntl(fd, F_GETFD) >= 0 ? 0 : 2;
}
static int do_adjtimex(void)
{
        struct timex t = { .modes = 0 };
        return adjtimex(&t) < 0 && errno == EPERM ? 0 : 1;
}

static void test_behaviour(const SeccompProgram *p)
{
        CHECK(exited_ok(in_child(p, do_getpid)));
        CHECK(sigsys(in_child(p, do_unshare)));
        CHECK(exited_ok(in_child(p, do_clone3)));
        CHECK(exited_ok(in_child(p, do_io_uring)));
        CHECK(exited_ok(in_child(p, do_sockets)));
        CHECK(sigsys(in_child(p, do_int80)));
        CHECK(sigsys(in_child(p, do_x32)));
        CHECK(sigsys(in_child(p, do_tiocsti_high)));
        CHECK(sigsys(in_child(p, do_tiocsti)));
        CHECK(exited_ok(in_child(p, do_personality_ok)));
        CHECK(sigsys(in_child(p, do_personality_rie)));
        CHECK(sigsys(in_child(p, do_personality_hidden)));
        CHECK(sigsys(in_child(p, do_personality_almost_query)));
        CHECK(sigsys(in_child(p, do_clone_newnet)));
        CHECK(exited_ok(in_child(p, do_fork)));
        CHECK(exited_ok(in_child(p, do_mknod)));
        CHECK(exited_ok(in_child(p, do_fcntl_notify)));
        CHECK(exited_ok(in_child(p, do_adjtimex)));
}

static int send_fd(int sock, int fd)
{
        char c = 0;
        struct iovec iov = { .iov_base = &c, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
        char c;
        struct iovec iov = { .iov_base = &c, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = {};
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
                return -1;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        return fd;
}

/* The killing rules become notifications: the parent learns the syscall, then kills the child. */
static void test_notify(void)
{
        _cleanup_program_ SeccompProgram *p = load_policy("run", SECCOMP_PROFILE_KILL_VIA_NOTIFY);
        CHECK(p && p->uses_notify);
        if (!p)
                return;

        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(sv[0]);
                int listener;
                install(p, SECCOMP_FILTER_FLAG_NEW_LISTENER, &listener);
                if (send_fd(sv[1], listener) < 0)
                        _exit(102);
                close(listener);
                unshare(CLONE_NEWUSER);
                _exit(3);
        }
        close(sv[1]);
        _cleanup_close_ int sock = sv[0];
        _cleanup_close_ int listener = recv_fd(sock);
        CHECK(listener >= 0);

        struct pollfd pfd = { .fd = listener, .events = POLLIN };
        CHECK(poll(&pfd, 1, 10000) == 1);
        struct seccomp_notif_sizes sizes = {};
        CHECK(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0);
        size_t sz = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif
                                                                         : sizeof(struct seccomp_notif);
        _cleanup_free_ struct seccomp_notif *req = calloc(1, sz);
        CHECK(req && ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0);
        if (req) {
                CHECK(req->data.nr == SYS_unshare);
                CHECK(req->pid == (uint32_t)pid);
                const char *name = seccomp_syscall_name(req->data.nr);
                CHECK(name && strcmp(name, "unshare") == 0);
        }
        kill(pid, SIGKILL);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        /* Foreign arch and x32 still kill outright: they are not profile rules. */
        CHECK(sigsys(in_child(p, do_x32)));
        CHECK(sigsys(in_child(p, do_int80)));
}

int main(void)
{
        test_validation();

        const char *names[] = { "run", "compile" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_program_ SeccompProgram *p = load_policy(names[i], 0);
                CHECK(p && !p->uses_notify && strcmp(p->name, names[i]) == 0);
                _cleanup_program_ SeccompProgram *n = load_policy(names[i], SECCOMP_PROFILE_KILL_VIA_NOTIFY);
                CHECK(n && n->uses_notify);
                if (p)
                        test_behaviour(p);
        }
        test_notify();

        const char *mount = seccomp_syscall_name(SYS_mount);
        CHECK(mount && strcmp(mount, "mount") == 0);
        CHECK(seccomp_syscall_name(SYS_mount) == mount); /* cached */
        CHECK(seccomp_syscall_name(-1) == NULL);
        CHECK(seccomp_syscall_name(100000) == NULL);

        return test_summary();
}
