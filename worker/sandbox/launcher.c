/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher: slots, the event loop, and how a step's end becomes a verdict. */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "netns.h"
#include "spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

typedef enum KillReason {
        KILL_NONE,
        KILL_WALL,
        KILL_CPU,
        KILL_OUTPUT,
        KILL_SECCOMP,
        KILL_CANCEL,
} KillReason;

typedef enum WatchKind {
        WATCH_PID,
        WATCH_SYNC,
        WATCH_NOTIFY,
        WATCH_STDOUT,
        WATCH_STDERR,
        WATCH_TIMER,
} WatchKind;

typedef struct Sandbox Sandbox;

typedef struct Watch {
        WatchKind kind;
        Sandbox *sb;
} Watch;

typedef struct Slot {
        unsigned index;
        uid_t uid;
        int uid_lock_fd; /* flock held on the uid: no other launcher on this host uses it */
        char etc_path[64];
        bool busy;
        CgroupSlot *cg;
        int netns_fd;
        Sandbox *running;
} Slot;

struct Sandbox {
        Launcher *l;
        Slot *slot;
        pid_t pid;
        int pidfd, sync_fd, notify_fd, out_fd, err_fd, timer_fd;
        Watch watches[6];
        uint64_t start_ns, wall_deadline_ns;
        Limits limits;
        StepResult *result;
        StepCallbacks cb;
        void *userdata;
        KillReason kill_reason;
        bool terminating, got_exit, setup_error;
        int program_status;
        int blocked_syscall;
        char setup_msg[240];
};

struct Launcher {
        const Config *config;
        Slot *slots;
        unsigned n_slots;
        CgroupManager *cg;
        HostLayout layout;
        char *runtime_dir, *root_path, *boxes_path, *dev_path, *etc_path;
        int boxes_fd, devnull_fd, epoll_fd;
        unsigned running, ncpus;
        uint64_t next_box;
        bool fresh_netns;
        char describe[512];
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool process_is_single_threaded(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "Threads:", 8) == 0)
                        return atoi(line + 8) == 1;
        return true;
}

#define SHARED_ETC_MAX_KB 512u /* each host file the slots' /etc share */

/* A private mount namespace with a tmpfs runtime directory: boxes are mounted there, invisible to
 * the host and gone when we are. */
static int setup_runtime(Launcher *l, const char *dir, char *errbuf, size_t errlen)
{
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                snprintf(errbuf, errlen, "cannot create %s: %s", dir, strerror(errno));
                return -errno;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                snprintf(errbuf, errlen, "cannot create a private mount namespace: %s", strerror(errno));
                return -errno;
        }
        if (mount("sentinel-run", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0700") < 0) {
                snprintf(errbuf, errlen, "cannot mount the runtime tmpfs on %s: %s", dir, strerror(errno));
                return -errno;
        }
        if (asprintf(&l->root_path, "%s/root", dir) < 0 || asprintf(&l->boxes_path, "%s/boxes", dir) < 0)
                return -ENOMEM;
        if (mkdir(l->root_path, 0700) < 0 || mkdir(l->boxes_path, 0711) < 0) {
                snprintf(errbuf, errlen, "cannot populate %s: %s", dir, strerror(errno));
                return -errno;
        }
        l->boxes_fd = open(l->boxes_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (l->boxes_fd < 0)
                return -errno;

        /* /dev and the slots' /etc are built once here and bound into each sandbox. */
        if (asprintf(&l->dev_path, "%s/dev", dir) < 0 || asprintf(&l->etc_path, "%s/etc", dir) < 0)
                return -ENOMEM;
        int r = mkdir(l->dev_path, 0755) < 0 ? -errno : spawn_prepare_dev(l->dev_path);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot prepare the sandbox /dev: %s", strerror(-r));
                return r;
        }
        /* Room for the shared host files and, per slot, a page for each of its few small files. */
        char opts[64];
        snprintf(opts, sizeof opts, "size=%uk,mode=0755", SHARED_ETC_MAX_KB * 2 + l->n_slots * 64);
        if (mkdir(l->etc_path, 0755) < 0 ||
                mount("sentinel-etc", l->etc_path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
                snprintf(errbuf, errlen, "cannot prepare the sandbox /etc: %s", strerror(errno));
                return -errno;
        }
        return 0;
}

/* Host files every slot's /etc shows, copied once and hard-linked into each slot: the loader's
 * cache (without it ld.so probes a dozen directories for each library a program links) and the
 * locale aliases (/usr/share/locale/locale.alias links to /etc). */
static const char *const shared_etc_files[] = {"ld.so.cache", "locale.alias", NULL};

/* Optional: a file that is missing, not a regular file or larger than this is left out. */
static int copy_host_etc_file(const char *name, int dir_fd)
{
        char src[64];
        snprintf(src, sizeof src, "/etc/%s", name);
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (in < 0)
                return errno == ENOENT || errno == ELOOP ? 0 : -errno;
        struct stat st;
        if (fstat(in, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > (off_t)SHARED_ETC_MAX_KB * 1024) {
                log_warning("launcher: %s left out of the sandbox /etc (not a regular file of at most %u KiB)", src,
                        SHARED_ETC_MAX_KB);
                return 0;
        }
        _cleanup_close_ int out = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return -errno;
        char buf[16384];
        ssize_t n;
        while ((n = RETRY_EINTR(read(in, buf, sizeof buf))) > 0)
                if (write(out, buf, (size_t)n) != n)
                        return -EIO;
        return n < 0 ? -errno : 0;
}

/* Fills each slot's /etc, then makes them all read-only. */
static int setup_slot_etc(Launcher *l, const char *const *mountpoints)
{
        _cleanup_close_ int etc_fd = open(l->etc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (etc_fd < 0 || mkdirat(etc_fd, "shared", 0755) < 0)
                return -errno;
        _cleanup_close_ int shared_fd = openat(etc_fd, "shared", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (shared_fd < 0)
                return -errno;
        for (const char *const *f = shared_etc_files; *f; f++) {
                int r = copy_host_etc_file(*f, shared_fd);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < l->n_slots; i++) {
                Slot *s = &l->slots[i];
                snprintf(s->etc_path, sizeof s->etc_path, "%s/%u", l->etc_path, i);
                if (mkdir(s->etc_path, 0755) < 0)
                        return -errno;
                int r = spawn_prepare_etc(s->etc_path, s->uid, s->uid, mountpoints);
                if (r < 0)
                        return r;
                _cleanup_close_ int slot_fd = open(s->etc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (slot_fd < 0)
                        return -errno;
                for (const char *const *f = shared_etc_files; *f; f++)
                        if (linkat(shared_fd, *f, slot_fd, *f, 0) < 0 && errno != ENOENT)
                                return -errno;
        }
        if (mount(NULL, l->etc_path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    NULL) < 0)
                return -errno;
        return 0;
}

/* Takes the lowest uid >= *next that no other launcher on this host holds, by flock on a file per
 * uid. Two launchers sharing a uid would share RLIMIT_NPROC and other per-user counters. */
static int lock_slot_uid(uint64_t *next, uid_t *ret_uid, int *ret_fd)
{
        static const char dir[] = "/run/lock/sentinel";
        if (mkdir("/run/lock", 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        for (unsigned tries = 0; tries < 4096; tries++, (*next)++) {
                char path[64];
                snprintf(path, sizeof path, "%s/uid-%" PRIu64 ".lock", dir, *next);
                int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        *ret_uid = (uid_t)(*next)++;
                        *ret_fd = fd;
                        return 0;
                }
                close(fd);
        }
        return -EUSERS;
}

int launcher_new(const LauncherOptions *opts, Launcher **ret, char *errbuf, size_t errlen)
{
        int r;
        if (geteuid() != 0) {
                snprintf(errbuf, errlen, "the launcher must run as root (it creates namespaces and cgroups)");
                return -EPERM;
        }
        if (!process_is_single_threaded()) {
                snprintf(errbuf, errlen, "the launcher must be started before any thread");
                return -EINVAL;
        }

        _cleanup_free_ Launcher *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->config = opts->config;
        l->boxes_fd = l->devnull_fd = l->epoll_fd = -1;
        l->fresh_netns = opts->fresh_netns;
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        l->ncpus = n > 0 ? (unsigned)n : 1;
        l->n_slots = opts->slots ? opts->slots : (opts->config->slots ? (unsigned)opts->config->slots : l->ncpus);

        l->runtime_dir = strdup(opts->runtime_dir ? opts->runtime_dir : "/run/sentinel");
        if (!l->runtime_dir)
                return -ENOMEM;
        r = setup_runtime(l, l->runtime_dir, errbuf, errlen);
        if (r < 0) {
                launcher_free(TAKE_PTR(l));
                return r;
        }

        r = spawn_detect_layout(&l->layout);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot read the host layout: %s", strerror(-r));
                launcher_free(TAKE_PTR(l));
                return r;
        }

        if (opts->trim_fork_mappings) {
                r = spawn_trim_fork_mappings();
                if (r < 0)
                        log_warning("launcher: cannot trim what a sandbox inherits: %s", strerror(-r));
                else
                        log_debug("launcher: %d library mappings not copied into sandboxes", r);
        }

        l->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->devnull_fd < 0 || l->epoll_fd < 0) {
                r = -errno;
                launcher_free(TAKE_PTR(l));
                return r;
        }

        CgroupOptions cgo = {.root_override = opts->config->cgroup_root, .adopt_own = opts->adopt_cgroup};
        r = cgroup_manager_new(&cgo, &l->cg);
        if (r < 0) {
                snprintf(errbuf, errlen, "no usable cgroup hierarchy (need memory, pids and cpu accounting on "
                        "v2, or memory, pids and cpuacct on v1): %s", strerror(-r));
                launcher_free(TAKE_PTR(l));
                return r;
        }

        l->slots = calloc(l->n_slots, sizeof *l->slots);
        if (!l->slots) {
                launcher_free(TAKE_PTR(l));
                return -ENOMEM;
        }
        uint64_t next_uid = opts->config->uid_base;
        for (unsigned i = 0; i < l->n_slots; i++)
                l->slots[i].uid_lock_fd = l->slots[i].netns_fd = -1;
        for (unsigned i = 0; i < l->n_slots; i++) {
                Slot *s = &l->slots[i];
                s->index = i;
                r = lock_slot_uid(&next_uid, &s->uid, &s->uid_lock_fd);
                if (r < 0) {
                        snprintf(errbuf, errlen, "no free sandbox uid from %" PRIu64 ": %s", opts->config->uid_base,
                                strerror(-r));
                        launcher_free(TAKE_PTR(l));
                        return r;
                }
                r = cgroup_slot_new(l->cg, i, &s->cg);
                if (r < 0) {
                        snprintf(errbuf, errlen, "cannot create the cgroup of slot %u: %s", i, strerror(-r));
                        launcher_free(TAKE_PTR(l));
                        return r;
                }
                if (!l->fresh_netns) {
                        r = netns_new_loopback(&s->netns_fd);
                        if (r < 0) {
                                snprintf(errbuf, errlen, "cannot create the network namespace of slot %u: %s", i,
                                        strerror(-r));
                                launcher_free(TAKE_PTR(l));
                                return r;
                        }
                }
        }
        r = setup_slot_etc(l, opts->ro_mounts);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot prepare the slots' /etc: %s", strerror(-r));
                launcher_free(TAKE_PTR(l));
                return r;
        }
        snprintf(l->describe, sizeof l->describe, "%u slots, uids %u-%u, cgroup %s, landlock ABI %d",
                l->n_slots, (unsigned)l->slots[0].uid, (unsigned)l->slots[l->n_slots - 1].uid,
                cgroup_manager_describe(l->cg), l->layout.landlock_abi);
        *ret = TAKE_PTR(l);
        return 0;
}

static void sandbox_kill(Sandbox *sb, KillReason why);
static void sandbox_finish(Sandbox *sb);

Launcher *launcher_free(Launcher *l)
{
        if (!l)
                return NULL;
        for (unsigned i = 0; l->slots && i < l->n_slots; i++) {
                Slot *s = &l->slots[i];
                if (s->running) {
                        Sandbox *sb = s->running;
                        sandbox_kill(sb, KILL_CANCEL);
                        /* Reap init before finishing: SIGKILL is on its way, wait for it. */
                        siginfo_t si;
                        waitid((idtype_t)P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
                        sandbox_finish(sb);
                }
                cgroup_slot_free(s->cg);
                safe_close(s->netns_fd);
                safe_close(s->uid_lock_fd);
        }
        free(l->slots);
        cgroup_manager_free(l->cg);
        safe_close(l->boxes_fd);
        safe_close(l->devnull_fd);
        safe_close(l->epoll_fd);
        if (l->runtime_dir)
                umount2(l->runtime_dir, MNT_DETACH);
        free(l->runtime_dir);
        free(l->root_path);
        free(l->boxes_path);
        free(l->dev_path);
        free(l->etc_path);
        free(l);
        return NULL;
}

unsigned launcher_n_slots(const Launcher *l)
{
        return l->n_slots;
}

const char *launcher_describe(const Launcher *l)
{
        return l->describe;
}

int launcher_get_fd(const Launcher *l)
{
        return l->epoll_fd;
}

unsigned launcher_running(const Launcher *l)
{
        return l->running;
}

int launcher_acquire_slot(Launcher *l)
{
        for (unsigned i = 0; i < l->n_slots; i++)
                if (!l->slots[i].busy) {
                        l->slots[i].busy = true;
                        return (int)i;
                }
        return -EBUSY;
}

void launcher_release_slot(Launcher *l, unsigned slot)
{
        if (slot < l->n_slots && !l->slots[slot].running)
                l->slots[slot].busy = false;
}

int launcher_new_box(Launcher *l, unsigned slot, Box **ret)
{
        if (slot >= l->n_slots)
                return -EINVAL;
        char name[32];
        snprintf(name, sizeof name, "%u-%" PRIu64, slot, l->next_box++);
        uid_t uid = l->slots[slot].uid;
        return box_new(l->boxes_fd, l->boxes_path, name, l->config->box_size_mb, 16384, uid, uid, ret);
}

/* ---- one step ------------------------------------------------------------------------------ */

static int watch_add(Sandbox *sb, WatchKind kind, int fd)
{
        Watch *w = &sb->watches[kind];
        *w = (Watch){.kind = kind, .sb = sb};
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        return epoll_ctl(sb->l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void close_watched(Sandbox *sb, int *fd)
{
        if (*fd >= 0) {
                epoll_ctl(sb->l->epoll_fd, EPOLL_CTL_DEL, *fd, NULL);
                *fd = safe_close(*fd);
        }
}

/* Arms the timer for the next thing to check: the wall deadline, or when the CPU budget could be
 * spent at the earliest (all CPUs busy), whichever comes first. Event-driven, no polling loop. */
static void sandbox_arm_timer(Sandbox *sb, uint64_t cpu_used_us)
{
        uint64_t now = now_ns();
        uint64_t next = sb->wall_deadline_ns;
        uint64_t budget_us = sb->limits.cpu_ms * 1000;
        if (!sb->terminating && cpu_used_us < budget_us) {
                uint64_t soonest = (budget_us - cpu_used_us) * 1000 / sb->l->ncpus;
                soonest = MAX(soonest, (uint64_t)2000000); /* at least 2 ms apart */
                next = MIN(next, now + soonest);
        }
        if (next <= now)
                next = now + 1000;
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(next / 1000000000ULL),
                                         .tv_nsec = (long)(next % 1000000000ULL)}};
        timerfd_settime(sb->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void sandbox_kill(Sandbox *sb, KillReason why)
{
        if (sb->kill_reason == KILL_NONE)
                sb->kill_reason = why;
        /* SIGKILL of the namespace's init takes every process of the namespace with it. */
        if (sb->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
}

static void sandbox_on_timer(Sandbox *sb)
{
        uint64_t expirations;
        if (read(sb->timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                return;

        uint64_t cpu = 0;
        cgroup_slot_cpu_us(sb->slot->cg, &cpu);
        if (cpu >= sb->limits.cpu_ms * 1000) {
                sandbox_kill(sb, KILL_CPU);
                return;
        }
        uint64_t now = now_ns();
        if (now >= sb->wall_deadline_ns) {
                uint64_t grace = sb->l->config->kill_grace_ms;
                if (sb->terminating || grace == 0) {
                        sandbox_kill(sb, KILL_WALL);
                        return;
                }
                /* Polite first: init forwards SIGTERM to every process; SIGKILL after the grace. */
                sb->kill_reason = KILL_WALL;
                sb->terminating = true;
                syscall(SYS_pidfd_send_signal, sb->pidfd, SIGTERM, NULL, 0);
                sb->wall_deadline_ns = now + grace * 1000000ULL;
        }
        sandbox_arm_timer(sb, cpu);
}

/* Reads what is there; returns false at EOF or error (the fd is then closed). */
static bool sandbox_on_output(Sandbox *sb, int stream)
{
        int *fd = stream == 1 ? &sb->out_fd : &sb->err_fd;
        OutBuf *b = stream == 1 ? &sb->result->out : &sb->result->err;
        char buf[65536];
        for (;;) {
                ssize_t n = read(*fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                if (n <= 0) {
                        close_watched(sb, fd);
                        return false;
                }
                size_t before = b->len;
                bool over = outbuf_append(b, buf, (size_t)n);
                if (sb->cb.on_output && b->len > before)
                        sb->cb.on_output(sb->userdata, stream, b->data + before, b->len - before);
                if (over) {
                        /* Keep what fits, stop the program, and stop reading: memory stays bounded. */
                        sandbox_kill(sb, KILL_OUTPUT);
                        close_watched(sb, fd);
                        return false;
                }
        }
}

static void sandbox_on_sync(Sandbox *sb)
{
        for (;;) {
                SyncMsg m;
                struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
                union {
                        char buf[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } u;
                struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
                ssize_t n = recvmsg(sb->sync_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || errno != EAGAIN)
                                close_watched(sb, &sb->sync_fd);
                        return;
                }
                int passed = -1;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                memcpy(&passed, CMSG_DATA(c), sizeof passed);
                if ((size_t)n != sizeof m) {
                        safe_close(passed);
                        continue;
                }
                switch (m.type) {
                case SYNC_SETUP_ERROR:
                        sb->setup_error = true;
                        m.text[sizeof m.text - 1] = '\0';
                        snprintf(sb->setup_msg, sizeof sb->setup_msg, "%s: %s", m.text, strerror(m.error));
                        break;
                case SYNC_NOTIFY_FD:
                        if (passed >= 0 && sb->notify_fd < 0) {
                                sb->notify_fd = TAKE_FD(passed);
                                if (watch_add(sb, WATCH_NOTIFY, sb->notify_fd) < 0)
                                        sandbox_kill(sb, KILL_CANCEL);
                        }
                        break;
                case SYNC_EXIT:
                        sb->got_exit = true;
                        sb->program_status = m.status;
                        break;
                default:
                        break;
                }
                safe_close(passed);
        }
}

/* A killing seccomp rule fired: learn which syscall, then end the sandbox. The blocked call never
 * completes: the process dies waiting for our answer. */
static void sandbox_on_notify(Sandbox *sb, uint32_t events)
{
        if (!(events & EPOLLIN)) {
                /* A hang-up alone: every filtered process is gone. RECV would block here. */
                close_watched(sb, &sb->notify_fd);
                return;
        }
        struct seccomp_notif_sizes sizes = {};
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                sizes.seccomp_notif = sizeof(struct seccomp_notif);
        size_t sz = MAX((size_t)sizes.seccomp_notif, sizeof(struct seccomp_notif));
        _cleanup_free_ struct seccomp_notif *req = calloc(1, sz);
        if (req && ioctl(sb->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
                if (sb->kill_reason == KILL_NONE)
                        sb->blocked_syscall = req->data.nr;
                sandbox_kill(sb, KILL_SECCOMP);
                return;
        }
        if (errno == ENOENT || errno == EINTR)
                return; /* the caller died or was interrupted: nothing to answer */
        /* POLLHUP: every filtered process is gone. */
        close_watched(sb, &sb->notify_fd);
}

static const char *signal_name(int sig)
{
        const char *s = sigabbrev_np(sig);
        return s ? s : "?";
}

static void sandbox_verdict(Sandbox *sb, const CgroupStats *st)
{
        StepResult *r = sb->result;
        const Limits *L = &sb->limits;
        int status = sb->program_status;

        if (sb->got_exit) {
                if (WIFEXITED(status))
                        r->exit_code = WEXITSTATUS(status);
                else if (WIFSIGNALED(status))
                        r->signal = WTERMSIG(status);
        } else
                r->signal = SIGKILL; /* the namespace was killed under it */

        if (sb->setup_error) {
                r->verdict = VERDICT_INTERNAL_ERROR;
                snprintf(r->message, sizeof r->message, "sandbox setup failed: %s", sb->setup_msg);
        } else if (sb->kill_reason == KILL_SECCOMP) {
                r->verdict = VERDICT_SECURITY_VIOLATION;
                const char *name = seccomp_syscall_name(sb->blocked_syscall);
                snprintf(r->message, sizeof r->message, "blocked system call: %s (%d)", name ? name : "?",
                        sb->blocked_syscall);
        } else if (sb->kill_reason == KILL_OUTPUT) {
                r->verdict = VERDICT_OUTPUT_LIMIT_EXCEEDED;
                snprintf(r->message, sizeof r->message, "output limit exceeded (%" PRIu64 " KB per stream)",
                        L->output_kb);
        } else if (sb->kill_reason == KILL_CPU || r->cpu_us > L->cpu_ms * 1000 ||
                (r->signal == SIGXCPU)) {
                r->verdict = VERDICT_TIME_LIMIT_EXCEEDED;
                snprintf(r->message, sizeof r->message, "CPU time limit exceeded (%.3f s)", (double)L->cpu_ms / 1e3);
        } else if (sb->kill_reason == KILL_WALL) {
                r->verdict = VERDICT_TIME_LIMIT_EXCEEDED;
                snprintf(r->message, sizeof r->message, "wall time limit exceeded (%.3f s)", (double)L->wall_ms / 1e3);
        } else if (sb->kill_reason == KILL_CANCEL) {
                r->verdict = VERDICT_INTERNAL_ERROR;
                snprintf(r->message, sizeof r->message, "cancelled");
        } else if (st->oom_killed || (r->signal == SIGKILL && r->memory_kb * 100 >= L->memory_kb * 95)) {
                r->verdict = VERDICT_MEMORY_LIMIT_EXCEEDED;
                snprintf(r->message, sizeof r->message, "memory limit exceeded (%" PRIu64 " KB)", L->memory_kb);
        } else if (!sb->got_exit) {
                r->verdict = VERDICT_INTERNAL_ERROR;
                snprintf(r->message, sizeof r->message, "the sandbox ended without reporting the program's status");
        } else if (r->signal == SIGSYS) {
                r->verdict = VERDICT_SECURITY_VIOLATION;
                snprintf(r->message, sizeof r->message, "killed by the seccomp filter (SIGSYS: a foreign syscall ABI)");
        } else if (r->signal != 0) {
                r->verdict = VERDICT_RUNTIME_ERROR;
                snprintf(r->message, sizeof r->message, "killed by signal %d (SIG%s)%s", r->signal,
                        signal_name(r->signal), r->signal == SIGXFSZ ? ": file size limit exceeded" : "");
        } else if (r->exit_code != 0) {
                r->verdict = VERDICT_RUNTIME_ERROR;
                snprintf(r->message, sizeof r->message, "exited with code %d", r->exit_code);
        } else
                r->verdict = VERDICT_ACCEPTED;
}

static void sandbox_finish(Sandbox *sb)
{
        Launcher *l = sb->l;
        StepResult *r = sb->result;

        /* init is gone, so is every process of its namespace: what is in the pipes is all there is. */
        if (sb->out_fd >= 0)
                while (sandbox_on_output(sb, 1))
                        ;
        if (sb->err_fd >= 0)
                while (sandbox_on_output(sb, 2))
                        ;
        if (sb->sync_fd >= 0)
                sandbox_on_sync(sb);

        r->wall_us = (now_ns() - sb->start_ns) / 1000;
        CgroupStats st = {};
        if (cgroup_slot_stats(sb->slot->cg, &st) == 0) {
                r->cpu_us = st.cpu_us;
                r->memory_kb = st.memory_peak_kb;
                r->oom_killed = st.oom_killed;
        }
        /* Belt and braces: nothing may outlive the step. */
        if (!cgroup_slot_is_empty(sb->slot->cg))
                cgroup_slot_kill(sb->slot->cg);
        r->killed_by_supervisor = sb->kill_reason != KILL_NONE;
        sandbox_verdict(sb, &st);

        close_watched(sb, &sb->pidfd);
        close_watched(sb, &sb->sync_fd);
        close_watched(sb, &sb->notify_fd);
        close_watched(sb, &sb->out_fd);
        close_watched(sb, &sb->err_fd);
        close_watched(sb, &sb->timer_fd);
        sb->slot->running = NULL;
        l->running--;

        StepCallbacks cb = sb->cb;
        void *userdata = sb->userdata;
        free(sb);
        if (cb.on_done)
                cb.on_done(userdata, r);
}

static void sandbox_on_pidfd(Sandbox *sb)
{
        siginfo_t si = {};
        if (waitid((idtype_t)P_PIDFD, (id_t)sb->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return;
        sandbox_finish(sb);
}

int launcher_spawn(Launcher *l, unsigned slot, Box *box, const StepSpec *spec, StepResult *result,
        const StepCallbacks *cb, void *userdata)
{
        if (slot >= l->n_slots || !l->slots[slot].busy || l->slots[slot].running)
                return -EINVAL;
        Slot *s = &l->slots[slot];
        int r;

        r = cgroup_slot_prepare(s->cg, &spec->limits);
        if (r < 0)
                return r;

        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1, sync_p = -1, sync_c = -1;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        out_r = p[0], out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        err_r = p[0], err_w = p[1];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
                return -errno;
        sync_p = p[0], sync_c = p[1];
        _cleanup_close_ int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (timer < 0)
                return -errno;
        fcntl(out_r, F_SETFL, O_NONBLOCK);
        fcntl(err_r, F_SETFL, O_NONBLOCK);

        const int *procs_fds = NULL;
        size_t n_procs = cgroup_slot_procs_fds(s->cg, &procs_fds);
        SpawnSpec ss = {
                .argv = spec->argv,
                .envp = spec->envp,
                .ro_mounts = spec->ro_mounts,
                .layout = &l->layout,
                .root_path = l->root_path,
                .dev_path = l->dev_path,
                .etc_path = s->etc_path,
                .box_path = box->path,
                .uid = s->uid,
                .gid = s->uid,
                .limits = &spec->limits,
                .tmp_size_mb = l->config->tmp_size_mb,
                .nofile = l->config->nofile,
                .stack_mb = l->config->stack_mb,
                .netns_fd = s->netns_fd,
                .cgroup_clone_fd = cgroup_slot_clone_fd(s->cg),
                .cgroup_procs_fds = procs_fds,
                .n_cgroup_procs_fds = n_procs,
                .seccomp = spec->seccomp ? &spec->seccomp->fprog : NULL,
                .seccomp_notify = spec->seccomp && spec->seccomp->uses_notify,
                .stdin_fd = spec->stdin_fd >= 0 ? spec->stdin_fd : l->devnull_fd,
                .stdout_fd = out_w,
                .stderr_fd = err_w,
                .sync_fd = sync_c,
        };

        _cleanup_free_ Sandbox *sb = calloc(1, sizeof *sb);
        if (!sb)
                return -ENOMEM;
        *sb = (Sandbox){.l = l, .slot = s, .limits = spec->limits, .result = result, .userdata = userdata,
                .pidfd = -1, .sync_fd = -1, .notify_fd = -1, .out_fd = -1, .err_fd = -1, .timer_fd = -1};
        if (cb)
                sb->cb = *cb;
        step_result_init(result);
        outbuf_init(&result->out, spec->limits.output_kb * 1024);
        outbuf_init(&result->err, spec->limits.output_kb * 1024);

        sb->start_ns = now_ns();
        int pidfd = -1;
        pid_t pid = spawn_sandbox(&ss, &pidfd);
        if (pid < 0)
                return (int)pid;
        sb->pid = pid;
        sb->pidfd = pidfd;
        sb->wall_deadline_ns = sb->start_ns + spec->limits.wall_ms * 1000000ULL;

        sb->out_fd = TAKE_FD(out_r);
        sb->err_fd = TAKE_FD(err_r);
        sb->sync_fd = TAKE_FD(sync_p);
        sb->timer_fd = TAKE_FD(timer);
        /* The child's ends close here (cleanup), so EOF means the sandbox let go of them. */

        if (watch_add(sb, WATCH_PID, sb->pidfd) < 0 || watch_add(sb, WATCH_SYNC, sb->sync_fd) < 0 ||
                watch_add(sb, WATCH_STDOUT, sb->out_fd) < 0 || watch_add(sb, WATCH_STDERR, sb->err_fd) < 0 ||
                watch_add(sb, WATCH_TIMER, sb->timer_fd) < 0) {
                r = -errno;
                s->running = sb;
                l->running++;
                sandbox_kill(sb, KILL_CANCEL);
                /* Reap synchronously: the process is ours and dies now. */
                siginfo_t si;
                waitid((idtype_t)P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
                sb->cb = (StepCallbacks){};
                sandbox_finish(TAKE_PTR(sb));
                return r < 0 ? r : -EIO;
        }
        sandbox_arm_timer(sb, 0);
        s->running = sb;
        l->running++;
        TAKE_PTR(sb);
        return 0;
}

int launcher_cancel(Launcher *l, unsigned slot)
{
        if (slot >= l->n_slots || !l->slots[slot].running)
                return -ESRCH;
        sandbox_kill(l->slots[slot].running, KILL_CANCEL);
        return 0;
}

int launcher_dispatch(Launcher *l, int timeout_ms)
{
        struct epoll_event evs[32];
        int n = epoll_wait(l->epoll_fd, evs, ELEMENTSOF(evs), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;

        /* Finishing a sandbox frees it; handle the pidfd events last so no other event of this batch
         * points at freed memory. */
        for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < n; i++) {
                        Watch *w = evs[i].data.ptr;
                        if (!w)
                                continue;
                        if ((pass == 0) == (w->kind == WATCH_PID))
                                continue;
                        Sandbox *sb = w->sb;
                        switch (w->kind) {
                        case WATCH_STDOUT:
                                if (sb->out_fd >= 0)
                                        sandbox_on_output(sb, 1);
                                break;
                        case WATCH_STDERR:
                                if (sb->err_fd >= 0)
                                        sandbox_on_output(sb, 2);
                                break;
                        case WATCH_SYNC:
                                if (sb->sync_fd >= 0)
                                        sandbox_on_sync(sb);
                                break;
                        case WATCH_NOTIFY:
                                if (sb->notify_fd >= 0)
                                        sandbox_on_notify(sb, evs[i].events);
                                break;
                        case WATCH_TIMER:
                                if (sb->timer_fd >= 0)
                                        sandbox_on_timer(sb);
                                break;
                        case WATCH_PID:
                                sandbox_on_pidfd(sb);
                                break;
                        }
                }
        return 0;
}
