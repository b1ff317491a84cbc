/* SPDX-License-Identifier: Apache-2.0 */
/* Where a sandbox is born. Everything after clone runs in the child: it reports failures over the
 * sync socket and never returns. The parent (the launcher) is single-threaded, so the child may
 * call libc freely; it still avoids allocation out of habit and for speed. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <link.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "cleanup.h"
#include "landlock.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* struct clone_args of clone3(2), declared here to avoid <linux/sched.h> clashing with <sched.h>. */
struct sentinel_clone_args {
        uint64_t flags;
        uint64_t pidfd;
        uint64_t child_tid;
        uint64_t parent_tid;
        uint64_t exit_signal;
        uint64_t stack;
        uint64_t stack_size;
        uint64_t tls;
        uint64_t set_tid;
        uint64_t set_tid_size;
        uint64_t cgroup;
};

static const char *const top_level_names[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

int spawn_detect_layout(HostLayout *ret)
{
        HostLayout l = {};
        for (size_t i = 0; i < ELEMENTSOF(top_level_names); i++) {
                const char *name = top_level_names[i];
                char path[32], target[64];
                snprintf(path, sizeof path, "/%s", name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        ssize_t n = readlink(path, target, sizeof target - 1);
                        if (n <= 0 || (size_t)n >= sizeof target - 1)
                                return -ENAMETOOLONG;
                        target[n] = '\0';
                        snprintf(l.links[l.n_links], sizeof l.links[0], "%s", name);
                        snprintf(l.link_targets[l.n_links], sizeof l.link_targets[0], "%s", target);
                        l.n_links++;
                } else if (S_ISDIR(st.st_mode))
                        snprintf(l.binds[l.n_binds++], sizeof l.binds[0], "/%s", name);
        }

        l.cap_last_cap = 40;
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f && fscanf(f, "%d", &l.cap_last_cap) != 1)
                l.cap_last_cap = 40;
        l.landlock_abi = landlock_abi();
        *ret = l;
        return 0;
}

static int write_small_file(const char *path, const char *data);

int spawn_prepare_dev(const char *path)
{
        if (mount("sentinel-dev", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755") < 0)
                return -errno;
        static const struct {
                const char *name;
                unsigned major, minor;
        } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}};
        static const struct {
                const char *name, *target;
        } links[] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
                {"stderr", "/proc/self/fd/2"}, {"shm", "/tmp"}};
        char p[4096];
        mode_t old = umask(0);
        int r = 0;
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(nodes); i++) {
                snprintf(p, sizeof p, "%s/%s", path, nodes[i].name);
                if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0)
                        r = -errno;
        }
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(links); i++) {
                snprintf(p, sizeof p, "%s/%s", path, links[i].name);
                if (symlink(links[i].target, p) < 0)
                        r = -errno;
        }
        umask(old);
        if (r == 0 && mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
                r = -errno;
        return r;
}

static int mkdir_parents(char *path);

int spawn_prepare_etc(const char *path, uid_t uid, gid_t gid, const char *const *mountpoints)
{
        char p[4096], passwd[256], group[256];
        snprintf(passwd, sizeof passwd,
                "root:x:0:0:root:/:/usr/sbin/nologin\nsandbox:x:%u:%u:sandbox:/box:/usr/sbin/nologin\n",
                (unsigned)uid, (unsigned)gid);
        snprintf(group, sizeof group, "root:x:0:\nsandbox:x:%u:\n", (unsigned)gid);
        const struct {
                const char *name, *data;
        } files[] = {{"passwd", passwd}, {"group", group}, {"hosts", "127.0.0.1 localhost sentinel\n::1 localhost\n"}};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(p, sizeof p, "%s/%s", path, files[i].name);
                if (write_small_file(p, files[i].data) < 0)
                        return -errno;
        }
        for (const char *const *m = mountpoints; m && *m; m++) {
                struct stat st;
                if (strncmp(*m, "/etc/", 5) != 0 || stat(*m, &st) < 0)
                        continue;
                if (snprintf(p, sizeof p, "%s/%s", path, *m + 5) >= (int)sizeof p)
                        return -ENAMETOOLONG;
                if (mkdir_parents(p) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode) ? mkdir(p, 0755) < 0 && errno != EEXIST : write_small_file(p, "") < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

/* Whether the main program was linked with -z now: then no call in a child goes through the lazy
 * binding resolver. */
static int main_program_bind_now(struct dl_phdr_info *info, size_t size, void *data)
{
        (void)size;
        bool *now = data;
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
                if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
                        continue;
                for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
                        d->d_tag != DT_NULL; d++)
                        if ((d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_BIND_NOW)) ||
                            (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NOW)))
                                *now = true;
        }
        return 1; /* the first object is the main program: stop */
}

static bool is_kept_library(const char *path)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        /* What the child runs: libc, the loader, and in a sanitizer build the sanitizer's runtime
         * (instrumented code calls into it). */
        static const char *const kept[] = {"libc.so", "ld-linux", "libasan", "libubsan", "liblsan", "libtsan",
                "libclang_rt"};
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                if (strncmp(base, kept[i], strlen(kept[i])) == 0)
                        return true;
        return false;
}

int spawn_trim_fork_mappings(void)
{
        bool now = false;
        dl_iterate_phdr(main_program_bind_now, &now);
        if (!now)
                return 0;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return -errno;
        char line[4096];
        int n = 0;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                int path_at = 0;
                if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &path_at) < 2 || path_at == 0)
                        continue;
                char *path = line + path_at;
                path[strcspn(path, "\n")] = '\0';
                /* Shared libraries only: never the program itself, anonymous memory, the heap,
                 * the stack or a memfd. */
                if (path[0] != '/' || !strstr(path, ".so") || strstr(path, "(deleted)") || is_kept_library(path))
                        continue;
                if (madvise((void *)lo, hi - lo, MADV_DONTFORK) < 0)
                        return -errno;
                n++;
        }
        return n;
}

/* ---- child side ---------------------------------------------------------------------------- */

_noreturn_ static void child_fail(int sync_fd, int err, const char *what, const char *arg)
{
        SyncMsg m = {.type = SYNC_SETUP_ERROR, .error = err};
        snprintf(m.text, sizeof m.text, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
        (void)send(sync_fd, &m, sizeof m, MSG_NOSIGNAL);
        _exit(127);
}

#define CHECK(expr, what, arg)                                                                         \
        do {                                                                                           \
                if ((expr) < 0)                                                                        \
                        child_fail(spec->sync_fd, errno, what, arg);                                   \
        } while (0)

static int path_join(char *buf, size_t len, const char *a, const char *b)
{
        int n = snprintf(buf, len, "%s%s", a, b);
        if (n < 0 || (size_t)n >= len) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return 0;
}

static int bind_ro(const char *src, const char *dst, unsigned long extra)
{
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -1;
        return mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | extra, NULL);
}

/* mkdir -p of the parents of path (absolute, inside the new root). */
static int mkdir_parents(char *path)
{
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                int r = mkdir(path, 0755);
                *p = '/';
                if (r < 0 && errno != EEXIST)
                        return -1;
        }
        return 0;
}

static int write_small_file(const char *path, const char *data)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -1;
        size_t len = strlen(data);
        ssize_t n = write(fd, data, len);
        close(fd);
        return n == (ssize_t)len ? 0 : -1;
}

static void build_root(const SpawnSpec *spec)
{
        const char *R = spec->root_path;
        char p[4096], q[4096];

        /* A fresh tmpfs as the root: only what we put here is visible. */
        CHECK(mount("sentinel-root", R, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=1024,mode=0755"),
                "mount root tmpfs", R);

        CHECK(path_join(p, sizeof p, R, "/usr"), "path", "/usr");
        CHECK(mkdir(p, 0755), "mkdir", p);
        CHECK(bind_ro("/usr", p, 0), "bind /usr", NULL);

        for (unsigned i = 0; i < spec->layout->n_links; i++) {
                CHECK(snprintf(p, sizeof p, "%s/%s", R, spec->layout->links[i]), "path", NULL);
                CHECK(symlink(spec->layout->link_targets[i], p), "symlink", p);
        }
        for (unsigned i = 0; i < spec->layout->n_binds; i++) {
                CHECK(path_join(p, sizeof p, R, spec->layout->binds[i]), "path", NULL);
                CHECK(mkdir(p, 0755), "mkdir", p);
                CHECK(bind_ro(spec->layout->binds[i], p, 0), "bind", spec->layout->binds[i]);
        }

        /* /etc and /dev were prepared read-only by the launcher: one bind each. The host's /etc is
         * never shown. */
        CHECK(path_join(p, sizeof p, R, "/etc"), "path", NULL);
        CHECK(mkdir(p, 0755), "mkdir", p);
        CHECK(mount(spec->etc_path, p, NULL, MS_BIND, NULL), "bind /etc", NULL);
        CHECK(path_join(p, sizeof p, R, "/dev"), "path", NULL);
        CHECK(mkdir(p, 0755), "mkdir", p);
        CHECK(mount(spec->dev_path, p, NULL, MS_BIND, NULL), "bind /dev", NULL);

        /* Extra read-only paths a language needs (its JDK configuration, say). */
        for (const char *const *m = spec->ro_mounts; m && *m; m++) {
                if (strncmp(*m, "/usr/", 5) == 0)
                        continue; /* already there, read-only */
                struct stat st;
                if (stat(*m, &st) < 0)
                        continue; /* optional on this host */
                CHECK(path_join(p, sizeof p, R, *m), "path", *m);
                CHECK(mkdir_parents(p), "mkdir", p);
                if (S_ISDIR(st.st_mode)) {
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                child_fail(spec->sync_fd, errno, "mkdir", p);
                } else if (write_small_file(p, "") < 0 && errno != EEXIST)
                        child_fail(spec->sync_fd, errno, "create", p);
                /* Mount points below /etc were made by spawn_prepare_etc (that /etc is read-only). */
                CHECK(bind_ro(*m, p, 0), "bind", *m);
        }

        /* /proc of the new pid namespace: only the sandbox's own processes. */
        CHECK(path_join(p, sizeof p, R, "/proc"), "path", NULL);
        CHECK(mkdir(p, 0555), "mkdir", p);
        /* hidepid=invisible: the sandbox uid sees only processes it may ptrace-read. The init is
         * non-dumpable (root-owned /proc entries), so the program cannot read its command line, which
         * is the supervisor's own (init is a fork that never execs). */
        if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible") < 0)
                CHECK(mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2"), "mount /proc", NULL);
        /* Mask what an unprivileged uid could still read about the host (Docker's maskedPaths,
         * trimmed to the world-readable ones: kcore, keys and sysrq-trigger are root-only or show
         * only the caller's own objects), and make /proc/sys read-only even for a process that
         * somehow regained root. */
        static const char *const masked[] = {"/proc/timer_list", "/proc/kallsyms", "/proc/sched_debug"};
        CHECK(path_join(q, sizeof q, R, "/dev/null"), "path", NULL);
        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                CHECK(path_join(p, sizeof p, R, masked[i]), "path", NULL);
                if (access(p, F_OK) == 0)
                        CHECK(mount(q, p, NULL, MS_BIND, NULL), "mask", masked[i]);
        }
        static const char *const ro_proc[] = {"/proc/sys"};
        for (size_t i = 0; i < ELEMENTSOF(ro_proc); i++) {
                CHECK(path_join(p, sizeof p, R, ro_proc[i]), "path", NULL);
                if (access(p, F_OK) == 0)
                        CHECK(bind_ro(p, p, MS_NOEXEC), "read-only", ro_proc[i]);
        }

        /* /box: the job's workspace (its tmpfs is nosuid,nodev already); /tmp: fresh per run. */
        CHECK(path_join(p, sizeof p, R, "/box"), "path", NULL);
        CHECK(mkdir(p, 0755), "mkdir", p);
        CHECK(mount(spec->box_path, p, NULL, MS_BIND, NULL), "bind /box", NULL);
        CHECK(path_join(p, sizeof p, R, "/tmp"), "path", NULL);
        CHECK(mkdir(p, 01777), "mkdir", p);
        char opts[96];
        snprintf(opts, sizeof opts, "size=%llum,nr_inodes=4096,mode=1777", (unsigned long long)spec->tmp_size_mb);
        /* noexec: neither execve nor the loader (ld.so /tmp/x maps it executable) runs code from /tmp;
         * compiled programs live in /box. */
        CHECK(mount("sentinel-tmp", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts), "mount /tmp", NULL);

        /* Switch roots and drop the old one entirely (pivot_root(".", ".") as runc and lxc do). */
        CHECK(chdir(R), "chdir", R);
        CHECK(syscall(SYS_pivot_root, ".", "."), "pivot_root", NULL);
        CHECK(umount2(".", MNT_DETACH), "detach old root", NULL);
        CHECK(chdir("/"), "chdir", "/");
        CHECK(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
                "remount / read-only", NULL);
}

static void set_limits(const SpawnSpec *spec)
{
        const Limits *L = spec->limits;
        rlim_t cpu = (rlim_t)(L->cpu_ms + 999) / 1000 + 1; /* backstop; the cgroup is the real meter */
        const struct {
                int res;
                rlim_t soft, hard;
                const char *name;
        } lims[] = {
                {RLIMIT_CPU, cpu, cpu + 1, "RLIMIT_CPU"},
                {RLIMIT_FSIZE, (rlim_t)L->fsize_kb * 1024, (rlim_t)L->fsize_kb * 1024, "RLIMIT_FSIZE"},
                {RLIMIT_NOFILE, spec->nofile, spec->nofile, "RLIMIT_NOFILE"},
                {RLIMIT_STACK, (rlim_t)spec->stack_mb << 20, (rlim_t)spec->stack_mb << 20, "RLIMIT_STACK"},
                {RLIMIT_CORE, 0, 0, "RLIMIT_CORE"},
                {RLIMIT_MEMLOCK, 0, 0, "RLIMIT_MEMLOCK"},
                {RLIMIT_MSGQUEUE, 0, 0, "RLIMIT_MSGQUEUE"},
                /* The slot's uid is used by no one else, so this per-uid count is a second pids wall
                 * (+1 for the sandbox init). */
                {RLIMIT_NPROC, L->pids + 1, L->pids + 1, "RLIMIT_NPROC"},
        };
        for (size_t i = 0; i < ELEMENTSOF(lims); i++) {
                struct rlimit rl = {lims[i].soft, lims[i].hard};
                CHECK(setrlimit(lims[i].res, &rl), "setrlimit", lims[i].name);
        }
}

static void drop_privileges(const SpawnSpec *spec)
{
        /* Bounding set first (needs CAP_SETPCAP), then ids: leaving uid 0 clears the permitted and
         * effective sets; capset clears the inheritable one; no ambient caps remain. */
        for (int c = 0; c <= spec->layout->cap_last_cap; c++)
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        child_fail(spec->sync_fd, errno, "drop capability bounding set", NULL);
        CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps", NULL);
        CHECK(setgroups(0, NULL), "setgroups", NULL);
        CHECK(setresgid(spec->gid, spec->gid, spec->gid), "setresgid", NULL);
        CHECK(setresuid(spec->uid, spec->uid, spec->uid), "setresuid", NULL);
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2] = {};
        CHECK(syscall(SYS_capset, &hdr, data), "capset", NULL);
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs", NULL);
        /* Death with the supervisor. Set after setresuid, which clears it. If the launcher died before
         * this point its end of the sync socket is closed: notice and go. */
        CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig", NULL);
        struct pollfd pfd = {.fd = spec->sync_fd};
        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                _exit(127);
}

static void apply_landlock(const SpawnSpec *spec)
{
        if (spec->layout->landlock_abi <= 0)
                return; /* documented: the other layers still stand */
        static const char *const read_paths[] = {"/", NULL};
        static const char *const write_paths[] = {"/box", "/tmp", NULL};
        static const char *const dev_paths[] = {"/dev", NULL};
        const char *exec_paths[24];
        size_t n = 0;
        exec_paths[n++] = "/usr";
        exec_paths[n++] = "/box";
        for (unsigned i = 0; i < spec->layout->n_binds; i++)
                exec_paths[n++] = spec->layout->binds[i];
        for (const char *const *m = spec->ro_mounts; m && *m && n < ELEMENTSOF(exec_paths) - 1; m++)
                exec_paths[n++] = *m;
        exec_paths[n] = NULL;
        LandlockPolicy policy = {
                .read_paths = read_paths,
                .exec_paths = exec_paths,
                .write_paths = write_paths,
                .dev_paths = dev_paths,
        };
        int r = landlock_restrict(spec->layout->landlock_abi, &policy);
        if (r < 0)
                child_fail(spec->sync_fd, -r, "landlock", NULL);
}

static int send_fd(int sock, int fd)
{
        SyncMsg m = {.type = SYNC_NOTIFY_FD};
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u = {};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

_noreturn_ static void exec_program(const SpawnSpec *spec)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Ignored signals survive exec: give the program default dispositions. */
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        setsid(); /* no controlling terminal to push input into (TIOCSTI) */

        /* seccomp goes last: from here on only the program's own calls are filtered. */
        if (spec->seccomp_notify) {
                int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                        spec->seccomp);
                if (l < 0)
                        child_fail(spec->sync_fd, errno, "seccomp", NULL);
                if (send_fd(spec->sync_fd, l) < 0)
                        _exit(127);
                close(l);
        } else if (spec->seccomp && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, spec->seccomp) < 0)
                child_fail(spec->sync_fd, errno, "seccomp", NULL);

        execve(spec->argv[0], spec->argv, spec->envp);
        child_fail(spec->sync_fd, errno, "execve", spec->argv[0]);
}

/* pid 1 of the sandbox: reaps, forwards SIGTERM to everything, reports the program's end. */
_noreturn_ static void run_init(const SpawnSpec *spec, pid_t program)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);

        /* Hold no pipe end: EOF on the program's output must not wait for us. */
        syscall(SYS_close_range, 0, (unsigned)spec->sync_fd - 1, 0);
        syscall(SYS_close_range, (unsigned)spec->sync_fd + 1, ~0U, 0);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* /proc/1/mem and friends: root-owned, out of reach */

        for (;;) {
                siginfo_t si;
                if (sigwaitinfo(&set, &si) < 0)
                        continue;
                if (si.si_signo == SIGTERM) {
                        kill(-1, SIGTERM); /* every process of the namespace but us */
                        continue;
                }
                int status;
                pid_t w;
                while ((w = waitpid(-1, &status, WNOHANG)) > 0)
                        if (w == program) {
                                SyncMsg m = {.type = SYNC_EXIT, .status = status};
                                (void)send(spec->sync_fd, &m, sizeof m, MSG_NOSIGNAL);
                                /* Leaving kills what the program left behind (pid namespace). */
                                _exit(0);
                        }
        }
}

_noreturn_ static void child_main(const SpawnSpec *spec)
{
        /* Join the slot's cgroup(s) unless clone3 put us there, then root a cgroup namespace on it. */
        if (spec->cgroup_clone_fd < 0) {
                for (size_t i = 0; i < spec->n_cgroup_procs_fds; i++)
                        CHECK(write(spec->cgroup_procs_fds[i], "0", 1), "join cgroup", NULL);
                CHECK(unshare(CLONE_NEWCGROUP), "cgroup namespace", NULL);
        }
        if (spec->netns_fd >= 0)
                CHECK(setns(spec->netns_fd, CLONE_NEWNET), "join network namespace", NULL);

        umask(0);
        build_root(spec);
        umask(022);
        CHECK(sethostname("sentinel", 8), "sethostname", NULL);
        CHECK(chdir("/box"), "chdir", "/box");

        CHECK(dup2(spec->stdin_fd, STDIN_FILENO), "dup2", "stdin");
        CHECK(dup2(spec->stdout_fd, STDOUT_FILENO), "dup2", "stdout");
        CHECK(dup2(spec->stderr_fd, STDERR_FILENO), "dup2", "stderr");
        /* Nothing but 0-2 reaches the program: every other fd closes at exec. */
        CHECK(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range", NULL);

        set_limits(spec);
        drop_privileges(spec);
        apply_landlock(spec);

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        CHECK(sigprocmask(SIG_BLOCK, &set, NULL), "sigprocmask", NULL);

        /* vfork: no copy of our page tables; init waits until the program has exec'd (or failed). The
         * child only makes syscalls and leaves through execve or _exit. */
        pid_t program = vfork();
        if (program < 0)
                child_fail(spec->sync_fd, errno, "fork", NULL);
        if (program == 0)
                exec_program(spec);
        run_init(spec, program);
}

pid_t spawn_sandbox(const SpawnSpec *spec, int *ret_pidfd)
{
        int pidfd = -1;
        struct sentinel_clone_args args = {
                .flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
        };
        if (spec->netns_fd < 0)
                args.flags |= CLONE_NEWNET;
        if (spec->cgroup_clone_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP | CLONE_NEWCGROUP;
                args.cgroup = (uint64_t)spec->cgroup_clone_fd;
        }

        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_main(spec);
        *ret_pidfd = pidfd;
        return (pid_t)pid;
}
