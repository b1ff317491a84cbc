/* SPDX-License-Identifier: Apache-2.0 */
/* The executor: a forked, single-threaded launcher process and its socket protocol.
 *
 * Parent → child: a datagram holding the request's JSON header, with a sealed memfd holding the
 * source followed by stdin. Child → parent: a WireHeader datagram (phase, output chunk inline, or
 * done with the result's JSON in a memfd). */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "json-util.h"
#include "launcher.h"
#include "log.h"
#include "policy.h"

#define HEADER_MAX (128 * 1024) /* a request's JSON header (args are bounded by the API) */
#define CHUNK_MAX (32 * 1024)
#define QUEUE_PER_SLOT 4

enum { WIRE_PHASE = 1, WIRE_OUTPUT = 2, WIRE_DONE = 3 };

typedef struct WireHeader {
        uint8_t type;
        uint8_t stream;
        uint8_t phase;
        uint8_t pad;
        char tag[EXEC_TAG_MAX + 1];
} WireHeader;

struct Executor {
        int fd;
        pid_t pid;
        unsigned slots;
        pthread_mutex_t send_lock;
};

/* ---- shared ---------------------------------------------------------------------------------- */

static int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
        struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl = {};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0) {
                mh.msg_control = ctl.buf;
                mh.msg_controllen = sizeof ctl.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (RETRY_EINTR(sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0)
                return -errno;
        return 0;
}

/* Receives one datagram (and at most one fd). Returns its length, 0 at EOF, or -errno. */
static ssize_t recv_with_fd(int sock, void *buf, size_t len, int *ret_fd, int flags)
{
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        *ret_fd = -1;
        ssize_t n = RETRY_EINTR(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags));
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
                        break;
                }
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                safe_close(*ret_fd);
                *ret_fd = -1;
                return -EMSGSIZE;
        }
        return n;
}

/* A sealed memfd holding a then b. */
static int make_payload(const char *a, size_t alen, const char *b, size_t blen)
{
        _cleanup_close_ int fd = memfd_create("sentinel-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        const char *parts[] = {a, b};
        size_t lens[] = {alen, blen};
        for (int i = 0; i < 2; i++)
                for (size_t off = 0; off < lens[i];) {
                        ssize_t n = RETRY_EINTR(write(fd, parts[i] + off, lens[i] - off));
                        if (n < 0)
                                return -errno;
                        off += (size_t)n;
                }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* Reads a whole payload fd (at most max bytes) into a NUL-terminated buffer. */
static int read_payload(int fd, size_t max, char **ret, size_t *ret_len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
                return -EFBIG;
        size_t len = (size_t)st.st_size;
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t off = 0; off < len;) {
                ssize_t n = RETRY_EINTR(pread(fd, buf + off, len - off, (off_t)off));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                off += (size_t)n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* ---- the child ------------------------------------------------------------------------------- */

typedef struct Child Child;

typedef struct ChildJob {
        Child *child;
        char tag[EXEC_TAG_MAX + 1];
        const Language *language;
        char *payload; /* source then stdin */
        size_t source_len, stdin_len;
        char **args;
        Limits limits;
        struct ChildJob *next; /* queue */
} ChildJob;

struct Child {
        const Config *cfg;
        Policy *policy;
        Launcher *launcher;
        int sock;
        ChildJob *queue_head, *queue_tail;
        unsigned queued, queue_max;
        bool dead_parent;
};

static void child_send(Child *c, const WireHeader *h, const void *data, size_t len, int fd)
{
        if (c->dead_parent)
                return;
        _cleanup_free_ char *buf = malloc(sizeof *h + len);
        if (!buf)
                return;
        memcpy(buf, h, sizeof *h);
        if (len)
                memcpy(buf + sizeof *h, data, len);
        if (send_with_fd(c->sock, buf, sizeof *h + len, fd) < 0)
                c->dead_parent = true;
}

static void child_job_free(ChildJob *j)
{
        if (!j)
                return;
        free(j->payload);
        if (j->args)
                for (char **p = j->args; *p; p++)
                        free(*p);
        free(j->args);
        free(j);
}

static void child_job_freep(ChildJob **j)
{
        child_job_free(*j);
}

static void send_done_json(Child *c, const char *tag, json_t *result)
{
        _cleanup_free_ char *text = result ? json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        if (!text)
                text = strdup("{\"status\":\"INTERNAL_ERROR\",\"message\":\"executor: out of memory\"}");
        if (!text)
                return;
        _cleanup_close_ int fd = make_payload(text, strlen(text), "", 0);
        WireHeader h = {.type = WIRE_DONE};
        snprintf(h.tag, sizeof h.tag, "%s", tag);
        if (fd >= 0)
                child_send(c, &h, NULL, 0, fd);
}

static void send_failure(Child *c, const char *tag, const char *message)
{
        json_t *r = json_pack("{s:s, s:s}", "status", "INTERNAL_ERROR", "message", message);
        send_done_json(c, tag, r);
        json_decref(r);
}

static void on_phase(void *userdata, JobPhase phase)
{
        ChildJob *j = userdata;
        WireHeader h = {.type = WIRE_PHASE, .phase = (uint8_t)phase};
        snprintf(h.tag, sizeof h.tag, "%s", j->tag);
        child_send(j->child, &h, NULL, 0, -1);
}

static void on_output(void *userdata, int stream, const char *data, size_t len)
{
        ChildJob *j = userdata;
        WireHeader h = {.type = WIRE_OUTPUT, .stream = (uint8_t)stream};
        snprintf(h.tag, sizeof h.tag, "%s", j->tag);
        for (size_t off = 0; off < len;) {
                size_t n = MIN(len - off, (size_t)CHUNK_MAX);
                child_send(j->child, &h, data + off, n, -1);
                off += n;
        }
}

static void on_done(void *userdata, RunResult *result)
{
        ChildJob *j = userdata;
        json_t *r = run_result_to_json(result);
        send_done_json(j->child, j->tag, r);
        json_decref(r);
        child_job_free(j);
}

/* Starts a job. Returns -EBUSY when every slot is taken (the job stays the caller's). */
static int child_start(Child *c, ChildJob *j)
{
        JobSpec spec = {
                .language = j->language,
                .policy = c->policy,
                .source = j->payload,
                .source_len = j->source_len,
                .stdin_data = j->stdin_len ? j->payload + j->source_len : NULL,
                .stdin_len = j->stdin_len,
                .args = j->args,
                .limits = j->limits,
                .compile_limits = c->cfg->compile_limits,
        };
        JobCallbacks cb = {.on_phase = on_phase, .on_output = on_output, .on_done = on_done};
        int r = job_start(c->launcher, &spec, &cb, j);
        if (r == -EBUSY)
                return r;
        if (r < 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "the sandbox could not start: %s", strerror(-r));
                send_failure(c, j->tag, msg);
                child_job_free(j);
        }
        return 0;
}

static void child_start_queued(Child *c)
{
        while (c->queue_head) {
                ChildJob *j = c->queue_head;
                if (child_start(c, j) == -EBUSY)
                        return;
                c->queue_head = j->next;
                if (!c->queue_head)
                        c->queue_tail = NULL;
                c->queued--;
        }
}

static uint64_t limit_from(json_t *o, const char *key, uint64_t def)
{
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : def;
}

/* One request from the parent. */
static void child_request(Child *c, const char *header, size_t len, int payload_fd)
{
        _cleanup_close_ int pfd = payload_fd;
        json_error_t e;
        json_auto_t *h = json_loadb(header, len, 0, &e);
        const char *tag = json_string_value(json_object_get(h, "tag"));
        if (!tag || strlen(tag) > EXEC_TAG_MAX) {
                log_error("executor: a malformed request (no tag); dropped");
                return;
        }
        _cleanup_(child_job_freep) ChildJob *j = calloc(1, sizeof *j);
        if (!j) {
                send_failure(c, tag, "executor: out of memory");
                return;
        }
        j->child = c;
        snprintf(j->tag, sizeof j->tag, "%s", tag);
        const char *lang = json_string_value(json_object_get(h, "language"));
        j->language = lang ? language_registry_find(c->policy->languages, lang) : NULL;
        if (!j->language) {
                send_failure(c, tag, "unknown language");
                return;
        }
        json_int_t slen = json_integer_value(json_object_get(h, "source_len"));
        json_int_t ilen = json_integer_value(json_object_get(h, "stdin_len"));
        size_t cap = (c->cfg->max_source_kb + c->cfg->max_stdin_kb) * 1024;
        size_t plen = 0;
        if (pfd < 0 || slen < 0 || ilen < 0 || read_payload(pfd, cap, &j->payload, &plen) < 0 ||
            plen != (size_t)slen + (size_t)ilen) {
                send_failure(c, tag, "executor: a malformed request payload");
                return;
        }
        j->source_len = (size_t)slen;
        j->stdin_len = (size_t)ilen;
        json_t *args = json_object_get(h, "args");
        if (json_is_array(args) && json_array_size(args) > 0) {
                j->args = calloc(json_array_size(args) + 1, sizeof *j->args);
                if (!j->args) {
                        send_failure(c, tag, "executor: out of memory");
                        return;
                }
                for (size_t i = 0; i < json_array_size(args); i++) {
                        const char *a = json_string_value(json_array_get(args, i));
                        if (!a || !(j->args[i] = strdup(a))) {
                                send_failure(c, tag, "executor: a malformed argument");
                                return;
                        }
                }
        }
        json_t *lim = json_object_get(h, "limits");
        const Limits *d = &c->cfg->run_default;
        j->limits = *d;
        j->limits.cpu_ms = limit_from(lim, "cpu_ms", d->cpu_ms);
        j->limits.wall_ms = limit_from(lim, "wall_ms", d->wall_ms);
        j->limits.memory_kb = limit_from(lim, "memory_kb", d->memory_kb);
        j->limits.pids = limit_from(lim, "pids", d->pids);
        j->limits.output_kb = limit_from(lim, "output_kb", d->output_kb);

        /* The profiles are compiled on first use; a broken profile is this job's INTERNAL_ERROR. */
        if (!policy_profile(c->policy, j->language->run_profile) ||
            (j->language->compile_argv && !policy_profile(c->policy, j->language->compile_profile))) {
                send_failure(c, tag, "the sandbox policy could not be loaded");
                return;
        }
        if (!c->queue_head && child_start(c, j) == 0) {
                j = NULL; /* the runner owns it now (or it failed and was answered) */
                return;
        }
        if (c->queued >= c->queue_max) {
                send_failure(c, tag, "executor queue full");
                return;
        }
        ChildJob *q = TAKE_PTR(j);
        if (c->queue_tail)
                c->queue_tail->next = q;
        else
                c->queue_head = q;
        c->queue_tail = q;
        c->queued++;
}

static _noreturn_ void child_main(const Config *cfg, const char *policy_dir, unsigned slots, int sock, int report_fd)
{
        Child c = {.cfg = cfg, .sock = sock, .queue_max = QUEUE_PER_SLOT * slots};
        char err[512] = "";
        int r = policy_load(policy_dir, &c.policy, err, sizeof err);
        if (r == 0) {
                LauncherOptions lo = {.config = cfg, .slots = slots, .ro_mounts = policy_ro_mounts(c.policy)};
                r = launcher_new(&lo, &c.launcher, err, sizeof err);
        }
        /* Tell the parent whether we are up: an empty message means yes. */
        if (r < 0) {
                size_t n = strlen(err);
                (void)!write(report_fd, err, n ? n : 1);
                _exit(1);
        }
        close(report_fd);
        log_info("executor: %u slots, %s", slots, launcher_describe(c.launcher));

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

        _cleanup_free_ char *buf = malloc(HEADER_MAX);
        bool stop = !buf || sfd < 0;
        while (!stop && !c.dead_parent) {
                struct pollfd p[3] = {
                        {.fd = sock, .events = POLLIN},
                        {.fd = launcher_get_fd(c.launcher), .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents & POLLIN) {
                        launcher_dispatch(c.launcher, 0);
                        child_start_queued(&c);
                }
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        int fd;
                        ssize_t n = recv_with_fd(sock, buf, HEADER_MAX, &fd, MSG_DONTWAIT);
                        if (n == 0 || (n < 0 && n != -EAGAIN && n != -EMSGSIZE))
                                stop = true; /* the worker went away */
                        else if (n > 0)
                                child_request(&c, buf, (size_t)n, fd);
                }
                if (p[2].revents & POLLIN)
                        stop = true;
        }
        /* launcher_free kills whatever still runs and removes the slots' cgroups. */
        while (c.queue_head) {
                ChildJob *j = c.queue_head;
                c.queue_head = j->next;
                child_job_free(j);
        }
        launcher_free(c.launcher);
        policy_free(c.policy);
        _exit(0);
}

/* ---- the parent ------------------------------------------------------------------------------ */

int executor_start(const Config *cfg, const char *policy_dir, unsigned slots, Executor **ret, char *errbuf,
        size_t errlen)
{
        int sv[2], rp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        if (pipe2(rp, O_CLOEXEC) < 0) {
                close(sv[0]);
                close(sv[1]);
                return -errno;
        }
        pid_t parent = getpid();
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(sv[0]), close(sv[1]), close(rp[0]), close(rp[1]);
                return e;
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                close(sv[0]);
                close(rp[0]);
                prctl(PR_SET_NAME, "sentinel-exec");
                child_main(cfg, policy_dir, slots, sv[1], rp[1]);
        }
        close(sv[1]);
        close(rp[1]);
        /* Wait for the child to report: EOF means it is up. */
        char msg[512];
        ssize_t n = RETRY_EINTR(read(rp[0], msg, sizeof msg - 1));
        close(rp[0]);
        if (n > 0) {
                msg[n] = '\0';
                snprintf(errbuf, errlen, "%s", msg);
                close(sv[0]);
                waitpid(pid, NULL, 0);
                return -EIO;
        }
        Executor *e = calloc(1, sizeof *e);
        if (!e) {
                close(sv[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -ENOMEM;
        }
        e->fd = sv[0];
        e->pid = pid;
        e->slots = slots;
        pthread_mutex_init(&e->send_lock, NULL);
        *ret = e;
        return 0;
}

Executor *executor_free(Executor *e)
{
        if (!e)
                return NULL;
        safe_close(e->fd);
        int status;
        while (waitpid(e->pid, &status, 0) < 0 && errno == EINTR)
                ;
        pthread_mutex_destroy(&e->send_lock);
        free(e);
        return NULL;
}

unsigned executor_slots(const Executor *e)
{
        return e->slots;
}

pid_t executor_child_pid(const Executor *e)
{
        return e->pid;
}

int executor_fd(const Executor *e)
{
        return e->fd;
}

int executor_submit(Executor *e, const ExecRequest *req)
{
        if (!req->tag || strlen(req->tag) > EXEC_TAG_MAX)
                return -EINVAL;
        json_auto_t *args = json_array();
        for (char *const *a = req->args; a && *a; a++)
                json_array_append_new(args, json_string(*a));
        json_auto_t *h = json_pack("{s:s, s:s, s:I, s:I, s:O, s:{s:I, s:I, s:I, s:I, s:I}}", "tag", req->tag,
                "language", req->language, "source_len", (json_int_t)req->source_len, "stdin_len",
                (json_int_t)req->stdin_len, "args", args, "limits", "cpu_ms", (json_int_t)req->limits.cpu_ms,
                "wall_ms", (json_int_t)req->limits.wall_ms, "memory_kb", (json_int_t)req->limits.memory_kb, "pids",
                (json_int_t)req->limits.pids, "output_kb", (json_int_t)req->limits.output_kb);
        _cleanup_free_ char *text = h ? json_dumps(h, JSON_COMPACT) : NULL;
        if (!text)
                return -ENOMEM;
        if (strlen(text) >= HEADER_MAX)
                return -E2BIG;
        _cleanup_close_ int fd = make_payload(req->source, req->source_len, req->stdin_data ? req->stdin_data : "",
                req->stdin_data ? req->stdin_len : 0);
        if (fd < 0)
                return fd;
        pthread_mutex_lock(&e->send_lock);
        int r = send_with_fd(e->fd, text, strlen(text), fd);
        pthread_mutex_unlock(&e->send_lock);
        return r == -ECONNRESET ? -EPIPE : r;
}

void exec_event_deinit(ExecEvent *ev)
{
        free(ev->data);
        json_decref(ev->result);
        *ev = (ExecEvent){};
}

int executor_next_event(Executor *e, ExecEvent *ret, int timeout_ms)
{
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        int pr = RETRY_EINTR(poll(&p, 1, timeout_ms));
        if (pr < 0)
                return -errno;
        if (pr == 0)
                return -EAGAIN;
        _cleanup_free_ char *buf = malloc(sizeof(WireHeader) + CHUNK_MAX);
        if (!buf)
                return -ENOMEM;
        int fd;
        ssize_t n = recv_with_fd(e->fd, buf, sizeof(WireHeader) + CHUNK_MAX, &fd, MSG_DONTWAIT);
        if (n == -EAGAIN)
                return -EAGAIN;
        if (n <= 0 || (size_t)n < sizeof(WireHeader)) {
                safe_close(fd);
                return -EPIPE;
        }
        _cleanup_close_ int pfd = fd;
        WireHeader h;
        memcpy(&h, buf, sizeof h);
        h.tag[EXEC_TAG_MAX] = '\0';
        ExecEvent ev = {};
        memcpy(ev.tag, h.tag, sizeof ev.tag);
        switch (h.type) {
        case WIRE_PHASE:
                ev.type = EXEC_EVENT_PHASE;
                ev.phase = (JobPhase)h.phase;
                break;
        case WIRE_OUTPUT:
                ev.type = EXEC_EVENT_OUTPUT;
                ev.stream = h.stream;
                ev.len = (size_t)n - sizeof h;
                ev.data = malloc(ev.len + 1);
                if (!ev.data)
                        return -ENOMEM;
                memcpy(ev.data, buf + sizeof h, ev.len);
                ev.data[ev.len] = '\0';
                break;
        case WIRE_DONE: {
                ev.type = EXEC_EVENT_DONE;
                _cleanup_free_ char *text = NULL;
                size_t len;
                json_error_t je;
                if (pfd < 0 || read_payload(pfd, SIZE_MAX / 2, &text, &len) < 0 ||
                    !(ev.result = json_loadb(text, len, 0, &je)))
                        ev.result = json_pack("{s:s, s:s}", "status", "INTERNAL_ERROR", "message",
                                "executor: unreadable result");
                break;
        }
        default:
                return -EPROTO;
        }
        *ret = ev;
        return 0;
}
