/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: a Landlock domain allows exactly its policy's paths, and (ABI >= 6) scopes sockets and signals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "landlock.h"

/* Shared with the forked children, which make most of the checks. */
static char *path_join(const char *a, const char *b)
{
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
                return -1;
        return 0;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (in < 0 || out < 0)
                return -1;
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t)n) != n)
                        return -1;
        return n < 0 ? -1 : 0;
}

/* Runs path in a child and returns its wait status; the child exits 100 + errno when execve fails. */
static int run_exec(const char *path)
{
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char *const argv[] = {(char *)path, NULL};
                char *const envp[] = {NULL};
                execve(path, argv, envp);
                _exit(100 + errno);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return status;
}

static bool exited_with(int status, int code)
{
        return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* Forks; the child runs fn(arg) and exits. Returns true when the child exited 0 (fn ran to its end). */
static bool in_child(void (*fn)(void *), void *arg)
{
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return false;
        if (pid == 0) {
                fn(arg);
                fflush(stdout);
                _exit(0);
        }
        int status;
        return waitpid(pid, &status, 0) == pid && exited_with(status, 0);
}

typedef struct Tree {
        int abi;
        char *dir, *ro, *ro_file, *rw, *rw_new, *rw_true, *outside;
        char *missing;
        struct sockaddr_un addr;
        socklen_t addr_len;
        pid_t parent;
} Tree;

static int restrict_to_tree(const Tree *t)
{
        const char *const read_paths[] = {t->ro, t->missing, NULL};
        const char *const write_paths[] = {t->rw, NULL};
        const char *const exec_paths[] = {"/usr", NULL};
        const char *const dev_paths[] = {"/dev", NULL};
        LandlockPolicy p = {
                .read_paths = read_paths,
                .write_paths = write_paths,
                .exec_paths = exec_paths,
                .dev_paths = dev_paths,
        };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return landlock_restrict(t->abi, &p);
}

static void child_filesystem(void *arg)
{
        const Tree *t = arg;
        int r = restrict_to_tree(t);
        /* The policy names a path that does not exist: it is skipped, not an error. */
        CHECK(r == 0, "landlock_restrict: %s", strerror(-r));
        if (r < 0)
                return;

        /* Read-only beneath ro/. */
        char buf[16] = "";
        int fd = open(t->ro_file, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0, "open %s for reading: %m", t->ro_file);
        CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 4 && strcmp(buf, "data") == 0, "read \"%s\"", buf);
        safe_close(fd);
        errno = 0;
        fd = open(t->ro_file, O_WRONLY | O_CLOEXEC);
        CHECK(fd < 0 && errno == EACCES, "open %s for writing: fd %d, %m", t->ro_file, fd);
        safe_close(fd);
        errno = 0;
        CHECK(unlink(t->ro_file) < 0 && errno == EACCES, "unlink in ro/: %m");

        /* Read-write beneath rw/. */
        fd = open(t->rw_new, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0, "create %s: %m", t->rw_new);
        CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write %s: %m", t->rw_new);
        safe_close(fd);
        CHECK(unlink(t->rw_new) == 0, "unlink %s: %m", t->rw_new);

        /* Nothing outside the policy, not even reading. */
        errno = 0;
        fd = open(t->outside, O_RDONLY | O_CLOEXEC);
        CHECK(fd < 0 && errno == EACCES, "open %s: fd %d, %m", t->outside, fd);
        safe_close(fd);
        errno = 0;
        fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd < 0 && errno == EACCES, "open the parent directory: fd %d, %m", fd);
        safe_close(fd);

        /* Exec only beneath an exec path: /usr yes, rw/ no although it may be written there. */
        int status = run_exec("/usr/bin/true");
        CHECK(exited_with(status, 0), "exec /usr/bin/true: status 0x%x", status);
        status = run_exec(t->rw_true);
        CHECK(exited_with(status, 100 + EACCES), "exec %s: status 0x%x", t->rw_true, status);

        /* Device files beneath a dev path. */
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null: %m");
        safe_close(fd);
}

/* Connects to the parent's abstract socket: returns 0 or -errno. */
static int connect_abstract(const Tree *t)
{
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        if (connect(s, (const struct sockaddr *)&t->addr, t->addr_len) < 0)
                return -errno;
        return 0;
}

static void child_scoping(void *arg)
{
        const Tree *t = arg;
        /* Allowed before the domain exists: the test's own control. */
        int r = connect_abstract(t);
        CHECK(r == 0, "connect before restricting: %s", strerror(-r));
        CHECK(kill(t->parent, 0) == 0, "kill(parent, 0) before restricting: %m");

        r = restrict_to_tree(t);
        CHECK(r == 0, "landlock_restrict: %s", strerror(-r));
        if (r < 0)
                return;
        r = connect_abstract(t);
        CHECK(r == -EPERM, "connect to an abstract socket outside the domain: %s", strerror(-r));
        errno = 0;
        CHECK(kill(t->parent, 0) < 0 && errno == EPERM, "kill(parent, 0) from inside the domain: %m");

        /* Within the domain, signals still work: a child of ours is in it. */
        pid_t pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        CHECK(pid > 0 && kill(pid, SIGKILL) == 0, "kill of a process in the same domain: %m");
        int status;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "reap");
}

static void child_missing_only(void *arg)
{
        const Tree *t = arg;
        const char *const only_missing[] = {t->missing, "/nonexistent/sentinel", NULL};
        LandlockPolicy p = {.read_paths = only_missing, .exec_paths = only_missing};
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs: %m");
        int r = landlock_restrict(t->abi, &p);
        CHECK(r == 0, "a policy of missing paths only: %s", strerror(-r));
        /* Then nothing at all is reachable. */
        errno = 0;
        int fd = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
        CHECK(fd < 0 && errno == EACCES, "open /usr/bin/true in an empty domain: fd %d, %m", fd);
        safe_close(fd);
}

int main(void)
{
        /* Line buffered: forked children must not inherit unwritten output. */
        setvbuf(stdout, NULL, _IOLBF, 0);

        int abi = landlock_abi();
        if (abi <= 0) {
                printf("skipped: Landlock is not available\n");
                return 77;
        }
        printf("Landlock ABI %d\n", abi);

        CHECK(landlock_restrict(0, &(LandlockPolicy){}) == -EOPNOTSUPP, "ABI 0 is refused");

        char tmpl[] = "/tmp/sentinel-test-landlock-XXXXXX";
        Tree t = {.abi = abi, .parent = getpid()};
        t.dir = mkdtemp(tmpl);
        if (!t.dir) {
                printf("mkdtemp: %m\n");
                return 1;
        }
        t.ro = path_join(t.dir, "ro");
        t.ro_file = path_join(t.ro, "file");
        t.rw = path_join(t.dir, "rw");
        t.rw_new = path_join(t.rw, "new");
        t.rw_true = path_join(t.rw, "true");
        t.outside = path_join(t.dir, "outside");
        t.missing = path_join(t.dir, "missing");
        CHECK(mkdir(t.ro, 0755) == 0 && mkdir(t.rw, 0755) == 0, "mkdir: %m");
        CHECK(write_file(t.ro_file, "data", 4, 0644) == 0, "write %s: %m", t.ro_file);
        CHECK(write_file(t.outside, "secret", 6, 0644) == 0, "write %s: %m", t.outside);
        CHECK(copy_file("/usr/bin/true", t.rw_true, 0755) == 0, "copy true: %m");
        /* The copy runs when unrestricted, so a refusal below is Landlock's. */
        int status = run_exec(t.rw_true);
        CHECK(exited_with(status, 0), "exec %s unrestricted: status 0x%x", t.rw_true, status);

        CHECK(in_child(child_filesystem, &t), "filesystem child did not finish");
        CHECK(in_child(child_missing_only, &t), "missing-paths child did not finish");

        if (abi >= 6) {
                _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                t.addr.sun_family = AF_UNIX;
                int n = snprintf(t.addr.sun_path + 1, sizeof t.addr.sun_path - 1, "sentinel-test-landlock-%d",
                        (int)getpid());
                t.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
                CHECK(s >= 0 && bind(s, (struct sockaddr *)&t.addr, t.addr_len) == 0 && listen(s, 4) == 0,
                        "abstract socket: %m");
                CHECK(in_child(child_scoping, &t), "scoping child did not finish");
        } else
                printf("ABI %d < 6: scoping not tested\n", abi);

        unlink(t.rw_true);
        unlink(t.rw_new);
        unlink(t.ro_file);
        unlink(t.outside);
        rmdir(t.ro);
        rmdir(t.rw);
        rmdir(t.dir);
        free(t.ro);
        free(t.ro_file);
        free(t.rw);
        free(t.rw_new);
        free(t.rw_true);
        free(t.outside);
        free(t.missing);

        return test_summary();
}
