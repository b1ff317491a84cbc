/* SPDX-License-Identifier: Apache-2.0 */
/* The executor: a forked, single-threaded launcher process (the child) and the worker's handle on it.
 *
 * The child never blocks on the worker: its socket writes are nonblocking, and what the socket
 * does not take waits in an outbox. OUTPUT chunks are dropped (per job, from the first one on)
 * once the outbox holds OUTBOX_MAX_BYTES; PHASE and DONE never are, and DONE carries the whole
 * output kept anyway. Requests beyond the free slots wait in a FIFO of QUEUE_PER_SLOT per slot. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "executor-proto.h"
#include "launcher.h"
#include "log.h"
#include "policy.h"
#include "time-util.h"

#define OUTBOX_MAX_BYTES ((size_t)64 << 20) /* queued for a slow worker before OUTPUT is dropped */
#define QUEUE_PER_SLOT 4                     /* requests waiting for a slot, per slot */
#define SOCKET_BUFFER_BYTES (4 << 20)        /* each direction's socket send buffer */
#define REQUESTS_PER_ROUND 64                /* then the launcher's events get their turn */
#define CANCEL_WAIT_MS 5000                  /* stopping: cancelled jobs have this long to end */
#define FLUSH_WAIT_MS 2000                   /* stopping: the last events have this long to leave */
#define STOP_MARGIN_MS 2000                  /* a stop signal: the worker's own deadline comes first */
#define SUBMIT_WAIT_MS 5000                  /* executor_submit() waits this long for socket space */
#define FREE_WAIT_MS 10000                   /* executor_free() waits this long for the child */

/* What the child tells executor_start() once, over a pipe. */
typedef struct StartReport {
        int32_t error; /* 0: up */
        uint32_t slots;
        char message[512];
} StartReport;

/* ---- the child ------------------------------------------------------------------------------- */

typedef struct Child Child;

typedef struct ChildJob {
        Child *child;
        struct ChildJob *next; /* in the queue */
        const Language *language;
        ExecDecodedRequest req; /* until the job starts: job_start() copies what it needs */
        bool output_dropped;
} ChildJob;

/* An event the socket did not take yet: header and payload in one buffer, maybe an fd. */
typedef struct OutMsg {
        struct OutMsg *next;
        int fd;
        size_t len;
        char data[];
} OutMsg;

struct Child {
        const Config *cfg;
        Policy *policy;
        Launcher *launcher;
        int sock;
        ChildJob *queue_head, *queue_tail;
        unsigned queued, queue_max;
        unsigned active; /* started, DONE not yet emitted */
        OutMsg *out_head, *out_tail;
        size_t out_bytes;
        bool parent_gone;
};

static void child_job_free(ChildJob *j)
{
        if (!j)
                return;
        exec_decoded_request_deinit(&j->req);
        free(j);
}

static void child_job_freep(ChildJob **j)
{
        child_job_free(*j);
}

static void outbox_clear(Child *c)
{
        while (c->out_head) {
                OutMsg *m = c->out_head;
                c->out_head = m->next;
                safe_close(m->fd);
                free(m);
        }
        c->out_tail = NULL;
        c->out_bytes = 0;
}

static void child_parent_gone(Child *c)
{
        if (!c->parent_gone)
                log_debug("executor: the worker closed its end");
        c->parent_gone = true;
        outbox_clear(c);
}

/* Sends what waits, until the socket is full. */
static void outbox_flush(Child *c)
{
        while (c->out_head && !c->parent_gone) {
                OutMsg *m = c->out_head;
                int r = exec_wire_send(c->sock, m->data, m->len, NULL, 0, m->fd, MSG_DONTWAIT);
                if (r == -EAGAIN)
                        return;
                if (r < 0) {
                        child_parent_gone(c);
                        return;
                }
                c->out_head = m->next;
                if (!c->out_head)
                        c->out_tail = NULL;
                c->out_bytes -= m->len;
                safe_close(m->fd);
                free(m);
        }
}

/* Sends an event, or queues it behind those waiting. fd is taken (closed here). With `job`, the
 * event is an OUTPUT chunk that may be dropped for it. */
static void child_emit(Child *c, const ExecWireEvent *h, const void *data, size_t len, int fd, ChildJob *job)
{
        _cleanup_close_ int owned = fd;
        if (c->parent_gone || (job && job->output_dropped))
                return;
        if (!c->out_head) {
                int r = exec_wire_send(c->sock, h, sizeof *h, data, len, fd, MSG_DONTWAIT);
                if (r == 0)
                        return;
                if (r != -EAGAIN) {
                        child_parent_gone(c);
                        return;
                }
        }
        size_t total = sizeof *h + len;
        if (job && c->out_bytes + total > OUTBOX_MAX_BYTES) {
                job->output_dropped = true;
                log_warning("executor: job %s: the worker reads too slowly; its output is no longer streamed", h->tag);
                return;
        }
        OutMsg *m = malloc(sizeof *m + total);
        if (!m) {
                if (job) {
                        job->output_dropped = true;
                        return;
                }
                /* A lost PHASE or DONE would leave a job hanging: die instead, so that the worker
                 * sees -EPIPE and fails what is in flight. */
                log_error("executor: out of memory while queueing an event; exiting");
                _exit(EXIT_FAILURE);
        }
        m->next = NULL;
        m->fd = TAKE_FD(owned);
        m->len = total;
        memcpy(m->data, h, sizeof *h);
        if (len)
                memcpy(m->data + sizeof *h, data, len);
        if (c->out_tail)
                c->out_tail->next = m;
        else
                c->out_head = m;
        c->out_tail = m;
        c->out_bytes += total;
}

/* Emits the DONE of `tag`: the JSON inline when it fits a chunk, else in a sealed memfd. */
static void child_emit_done(Child *c, const char *tag, json_t *result, uint8_t flags)
{
        ExecWireEvent h;
        exec_wire_event_init(&h, EXEC_WIRE_DONE, tag);
        h.flags = flags;
        _cleanup_free_ char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
        if (!text) {
                static const char oom[] = "{\"status\":\"INTERNAL_ERROR\",\"message\":\"executor: out of memory\"}";
                child_emit(c, &h, oom, strlen(oom), -1, NULL);
                return;
        }
        size_t len = strlen(text);
        if (len <= EXEC_CHUNK_MAX) {
                child_emit(c, &h, text, len, -1, NULL);
                return;
        }
        int fd = -1;
        struct iovec part = {.iov_base = text, .iov_len = len};
        int r = exec_memfd_new(&part, 1, &fd);
        if (r < 0) {
                log_error_errno(r, "executor: job %s: cannot pass its result", tag);
                static const char failed[] =
                        "{\"status\":\"INTERNAL_ERROR\",\"message\":\"executor: the result could not be passed on\"}";
                child_emit(c, &h, failed, strlen(failed), -1, NULL);
                return;
        }
        h.flags |= EXEC_WIRE_DONE_IN_MEMFD;
        child_emit(c, &h, NULL, 0, fd, NULL);
}

/* Ends a job that never ran: an INTERNAL_ERROR verdict with the message, logged. */
_printf_(3, 4) static void child_fail(Child *c, const char *tag, const char *fmt, ...)
{
        RunResult r;
        run_result_init(&r);
        r.status = VERDICT_INTERNAL_ERROR;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.message, sizeof r.message, fmt, ap);
        va_end(ap);
        log_error("executor: job %s: %s", tag, r.message);
        json_t *j = run_result_to_json(&r);
        child_emit_done(c, tag, j, 0);
        json_decref(j);
        run_result_deinit(&r);
}

static void on_phase(void *userdata, JobPhase phase)
{
        ChildJob *j = userdata;
        ExecWireEvent h;
        exec_wire_event_init(&h, EXEC_WIRE_PHASE, j->req.tag);
        h.phase = (uint8_t)phase;
        child_emit(j->child, &h, NULL, 0, -1, NULL);
}

static void on_output(void *userdata, int stream, const char *data, size_t len)
{
        ChildJob *j = userdata;
        ExecWireEvent h;
        exec_wire_event_init(&h, EXEC_WIRE_OUTPUT, j->req.tag);
        h.stream = (uint8_t)stream;
        for (size_t off = 0; off < len;) {
                size_t n = MIN(len - off, (size_t)EXEC_CHUNK_MAX);
                child_emit(j->child, &h, data + off, n, -1, j);
                off += n;
        }
}

static void on_done(void *userdata, RunResult *result)
{
        ChildJob *j = userdata;
        Child *c = j->child;
        json_t *r = run_result_to_json(result);
        child_emit_done(c, j->req.tag, r, j->output_dropped ? EXEC_WIRE_DONE_OUTPUT_DROPPED : 0);
        json_decref(r);
        c->active--;
        child_job_free(j);
}

/* Starts a job on a free slot. Returns -EBUSY when every slot is taken (the job stays the
 * caller's); else 0, and the job is the runner's (or failed and was answered). */
static int child_start(Child *c, ChildJob *j)
{
        JobSpec spec = {
                .language = j->language,
                .policy = c->policy,
                .source = j->req.source,
                .source_len = j->req.source_len,
                .stdin_data = j->req.stdin_data,
                .stdin_len = j->req.stdin_len,
                .args = j->req.args,
                .limits = j->req.limits,
                .compile_limits = c->cfg->compile_limits,
        };
        JobCallbacks cb = {.on_phase = on_phase, .on_output = on_output, .on_done = on_done};
        c->active++;
        int r = job_start(c->launcher, &spec, &cb, j);
        if (r == -EBUSY) {
                c->active--;
                return r;
        }
        /* job_start() copied the source, stdin and args either way: the mapping can go. */
        free(j->req.args);
        j->req.args = NULL;
        exec_mapping_deinit(&j->req.payload);
        if (r < 0) {
                c->active--;
                child_fail(c, j->req.tag, "the sandbox could not start: %s", strerror(-r));
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

/* Takes one request off the socket. Returns 1 when one was handled (answered or not), 0 when
 * there is none, -EPIPE when the worker closed its end. */
static int child_take_request(Child *c)
{
        char buf[sizeof(ExecWireRequest) + 1];
        int pfd;
        ssize_t n = exec_wire_recv(c->sock, buf, sizeof buf, &pfd, MSG_DONTWAIT);
        if (n == -EAGAIN)
                return 0;
        if (n == -EMSGSIZE) {
                log_error("executor: a request too large or with several fds; dropped");
                return 1;
        }
        if (n <= 0)
                return -EPIPE;
        _cleanup_close_ int fd = pfd;

        char err[400];
        _cleanup_(child_job_freep) ChildJob *j = calloc(1, sizeof *j);
        if (!j) {
                log_error("executor: out of memory for a request; exiting");
                _exit(EXIT_FAILURE); /* the worker sees -EPIPE: no job is lost silently */
        }
        j->child = c;
        int r = exec_request_decode(c->cfg, buf, (size_t)n, fd, &j->req, err, sizeof err);
        if (r < 0) {
                if (j->req.tag[0])
                        child_fail(c, j->req.tag, "%s", err);
                else
                        log_error("executor: %s; dropped", err); /* no tag: nobody to answer */
                return 1;
        }
        j->language = language_registry_find(c->policy->languages, j->req.language);
        if (!j->language) {
                child_fail(c, j->req.tag, "unknown language \"%s\"", j->req.language);
                return 1;
        }
        /* Profiles are compiled on first use; a broken one is this job's INTERNAL_ERROR. */
        if (!policy_profile(c->policy, j->language->run_profile) ||
                (j->language->compile_argv && !policy_profile(c->policy, j->language->compile_profile))) {
                child_fail(c, j->req.tag, "the sandbox policy could not be loaded: %s", c->policy->error);
                return 1;
        }
        if (!c->queue_head && child_start(c, j) == 0) {
                TAKE_PTR(j);
                return 1;
        }
        if (c->queued >= c->queue_max) {
                child_fail(c, j->req.tag, "executor queue full (%u waiting)", c->queued);
                return 1;
        }
        ChildJob *q = TAKE_PTR(j);
        if (c->queue_tail)
                c->queue_tail->next = q;
        else
                c->queue_head = q;
        c->queue_tail = q;
        c->queued++;
        return 1;
}

static int remaining_ms(uint64_t deadline)
{
        uint64_t now = now_monotonic_ms();
        return now >= deadline ? 0 : (int)MIN(deadline - now, (uint64_t)INT32_MAX);
}

/* Serves requests until the worker closes its end, or a stop signal's grace period ends. */
static void child_serve(Child *c, int sfd)
{
        uint64_t stop_at = UINT64_MAX;
        while (!c->parent_gone && (stop_at == UINT64_MAX || now_monotonic_ms() < stop_at)) {
                struct pollfd p[3] = {
                        {.fd = c->sock, .events = POLLIN | (c->out_head ? POLLOUT : 0)},
                        {.fd = launcher_get_fd(c->launcher), .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                };
                if (poll(p, ELEMENTSOF(p), stop_at == UINT64_MAX ? -1 : remaining_ms(stop_at)) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(-errno, "executor: poll");
                        return;
                }
                if (p[1].revents & POLLIN) {
                        int r = launcher_dispatch(c->launcher, 0);
                        if (r < 0) {
                                log_error_errno(r, "executor: the launcher's event loop failed");
                                return;
                        }
                        child_start_queued(c);
                }
                if (p[0].revents & POLLOUT)
                        outbox_flush(c);
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
                        for (int i = 0; i < REQUESTS_PER_ROUND && !c->parent_gone; i++) {
                                int r = child_take_request(c);
                                if (r == -EPIPE)
                                        child_parent_gone(c);
                                if (r <= 0)
                                        break;
                        }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si && stop_at == UINT64_MAX) {
                                /* A service manager signals the whole group, and the worker drains
                                 * for shutdown_grace_ms: what runs here gets as long to finish, and
                                 * new jobs still run. A little longer, so that the worker's deadline
                                 * comes first: it closes the socket and leaves what is unfinished to
                                 * the broker, instead of receiving "cancelled" verdicts to commit. */
                                uint64_t grace = c->cfg->shutdown_grace_ms + STOP_MARGIN_MS;
                                log_info("executor: signal %u: stopping within %llu ms", si.ssi_signo,
                                        (unsigned long long)grace);
                                stop_at = now_monotonic_ms() + grace;
                        }
                }
        }
}

/* Cancels what runs and waits (bounded) for it to end; what waits in the queue ends now. */
static void child_stop(Child *c)
{
        while (c->queue_head) {
                ChildJob *j = c->queue_head;
                c->queue_head = j->next;
                child_fail(c, j->req.tag, "cancelled: the executor is stopping");
                child_job_free(j);
        }
        c->queue_tail = NULL;
        c->queued = 0;

        unsigned n = launcher_n_slots(c->launcher);
        uint64_t deadline = now_monotonic_ms() + CANCEL_WAIT_MS;
        if (c->active > 0)
                log_info("executor: cancelling %u job(s)", c->active);
        while (c->active > 0 && remaining_ms(deadline) > 0) {
                /* Again each round: a compile that ended as the cancel came may have started its run. */
                for (unsigned i = 0; i < n; i++)
                        (void)launcher_cancel(c->launcher, i);
                struct pollfd p[2] = {
                        {.fd = launcher_get_fd(c->launcher), .events = POLLIN},
                        {.fd = c->out_head ? c->sock : -1, .events = POLLOUT},
                };
                if (poll(p, ELEMENTSOF(p), remaining_ms(deadline)) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN && launcher_dispatch(c->launcher, 0) < 0)
                        break;
                if (p[1].revents)
                        outbox_flush(c);
        }
        /* Kills and reaps whatever still runs (their DONE is emitted), removes the slots' cgroups. */
        c->launcher = launcher_free(c->launcher);

        deadline = now_monotonic_ms() + FLUSH_WAIT_MS;
        while (c->out_head && !c->parent_gone && remaining_ms(deadline) > 0) {
                struct pollfd p = {.fd = c->sock, .events = POLLOUT};
                if (poll(&p, 1, remaining_ms(deadline)) < 0 && errno != EINTR)
                        break;
                outbox_flush(c);
        }
        if (c->out_head)
                log_warning("executor: %zu bytes of events not delivered", c->out_bytes);
        outbox_clear(c);
}

/* Everything but 0-2 and the fds kept closes: the worker's sockets and files are not ours. */
static void close_all_but(int a, int b)
{
        int lo = MIN(a, b), hi = MAX(a, b);
        if (lo > 3)
                syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
        if (hi > lo + 1)
                syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
        syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

static _noreturn_ void child_main(const Config *cfg, const char *policy_dir, unsigned slots, int sock,
        int report_fd, pid_t parent)
{
        /* Die with the worker; if it died before this took effect, go now. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        close_all_but(sock, report_fd);
        (void)prctl(PR_SET_NAME, "sentinel-exec");

        /* Signals as a fresh process has them, but for SIGTERM/SIGINT (events) and SIGPIPE. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        (void)signal(SIGPIPE, SIG_IGN);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_SETMASK, &mask, NULL);

        /* The heap keeps what it grew to: returning its top to the kernel after each job and
         * faulting in fresh zeroed pages for the next (brk up and down, hundreds of times a minute)
         * cost more than the memory, which one job's output bounds. */
        (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
        (void)mallopt(M_TOP_PAD, 1 << 20);
        (void)mallopt(M_MMAP_THRESHOLD, 8 << 20);

        Child c = {.cfg = cfg, .sock = sock};
        StartReport report = {};
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        int r = sfd < 0 ? -errno : policy_load(policy_dir, &c.policy, report.message, sizeof report.message);
        if (sfd < 0)
                snprintf(report.message, sizeof report.message, "signalfd: %s", strerror(-r));
        if (r == 0) {
                LauncherOptions lo = {.config = cfg, .slots = slots, .ro_mounts = policy_ro_mounts(c.policy),
                        .adopt_cgroup = true, .trim_fork_mappings = true};
                r = launcher_new(&lo, &c.launcher, report.message, sizeof report.message);
        }
        report.error = r;
        if (r == 0)
                report.slots = launcher_n_slots(c.launcher);
        if (RETRY_EINTR(write(report_fd, &report, sizeof report)) != (ssize_t)sizeof report || r < 0)
                _exit(EXIT_FAILURE);
        safe_close(report_fd);

        c.queue_max = QUEUE_PER_SLOT * report.slots;
        log_info("executor: pid %d, %s", (int)getpid(), launcher_describe(c.launcher));
        child_serve(&c, sfd);
        child_stop(&c);
        policy_free(c.policy);
        /* launcher_free() reaped the sandboxes; nothing else of ours should remain. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        log_debug("executor: stopped");
        _exit(EXIT_SUCCESS);
}

/* ---- the worker's side ------------------------------------------------------------------------ */

struct Executor {
        int fd;
        int pidfd;
        pid_t pid;
        unsigned slots;
        bool dead; /* under recv_lock */
        pthread_mutex_t send_lock, recv_lock;
        char *buf; /* one event datagram */
};

#define EVENT_BUFFER_BYTES (sizeof(ExecWireEvent) + EXEC_CHUNK_MAX + 1)

static void set_send_buffer(int fd)
{
        int size = SOCKET_BUFFER_BYTES;
        /* Beyond net.core.wmem_max needs CAP_NET_ADMIN, which the worker has; else the default. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* Reads the child's start report. Returns 0, or -errno with errbuf filled. */
static int read_report(int fd, StartReport *ret, char *errbuf, size_t errlen)
{
        size_t got = 0;
        while (got < sizeof *ret) {
                ssize_t n = RETRY_EINTR(read(fd, (char *)ret + got, sizeof *ret - got));
                if (n < 0) {
                        snprintf(errbuf, errlen, "executor: reading its start report: %s", strerror(errno));
                        return -errno;
                }
                if (n == 0) {
                        snprintf(errbuf, errlen, "executor: the child exited while starting");
                        return -EIO;
                }
                got += (size_t)n;
        }
        ret->message[sizeof ret->message - 1] = '\0';
        if (ret->error < 0) {
                snprintf(errbuf, errlen, "%s", ret->message[0] ? ret->message : strerror(-ret->error));
                return ret->error;
        }
        if (ret->error > 0 || ret->slots == 0) {
                snprintf(errbuf, errlen, "executor: a malformed start report");
                return -EIO;
        }
        return 0;
}

/* Forks the child; see executor.h. */
int executor_start(const Config *cfg, const char *policy_dir, unsigned slots, Executor **ret, char *errbuf,
        size_t errlen)
{
        _cleanup_free_ Executor *e = calloc(1, sizeof *e);
        _cleanup_free_ char *buf = malloc(EVENT_BUFFER_BYTES);
        if (!e || !buf) {
                snprintf(errbuf, errlen, "out of memory");
                return -ENOMEM;
        }
        int sv[2], rp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                snprintf(errbuf, errlen, "socketpair: %s", strerror(errno));
                return -errno;
        }
        _cleanup_close_ int sock = sv[0], child_sock = sv[1];
        if (pipe2(rp, O_CLOEXEC) < 0) {
                snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
                return -errno;
        }
        _cleanup_close_ int report_r = rp[0], report_w = rp[1];
        set_send_buffer(sock);
        set_send_buffer(child_sock);

        pid_t parent = getpid();
        fflush(NULL); /* no buffered output written twice */
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(errbuf, errlen, "fork: %s", strerror(errno));
                return -errno;
        }
        if (pid == 0)
                child_main(cfg, policy_dir, slots, child_sock, report_w, parent);
        child_sock = safe_close(child_sock);
        report_w = safe_close(report_w);

        StartReport report;
        int r = read_report(report_r, &report, errbuf, errlen);
        if (r < 0) {
                sock = safe_close(sock);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return r;
        }
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1: executor_free() waits without a bound */
        *e = (Executor){.fd = TAKE_FD(sock), .pidfd = pidfd, .pid = pid, .slots = report.slots, .buf = TAKE_PTR(buf)};
        pthread_mutex_init(&e->send_lock, NULL);
        pthread_mutex_init(&e->recv_lock, NULL);
        *ret = TAKE_PTR(e);
        return 0;
}

/* Closes the socket, waits (bounded) for the child to clean up and exit, reaps it. */
Executor *executor_free(Executor *e)
{
        if (!e)
                return NULL;
        safe_close(e->fd);
        if (e->pidfd >= 0) {
                struct pollfd p = {.fd = e->pidfd, .events = POLLIN};
                if (RETRY_EINTR(poll(&p, 1, FREE_WAIT_MS)) == 0) {
                        log_warning("executor: pid %d did not exit within %d ms; killing it", (int)e->pid, FREE_WAIT_MS);
                        syscall(SYS_pidfd_send_signal, e->pidfd, SIGKILL, NULL, 0);
                }
                safe_close(e->pidfd);
        }
        while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pthread_mutex_destroy(&e->send_lock);
        pthread_mutex_destroy(&e->recv_lock);
        free(e->buf);
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

/* Hands a job to the child; see executor.h. */
int executor_submit(Executor *e, const ExecRequest *req)
{
        ExecWireRequest h;
        int pfd;
        int r = exec_request_encode(req, &h, &pfd);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = pfd;

        uint64_t deadline = now_monotonic_ms() + SUBMIT_WAIT_MS;
        pthread_mutex_lock(&e->send_lock);
        for (;;) {
                r = exec_wire_send(e->fd, &h, sizeof h, NULL, 0, fd, MSG_DONTWAIT);
                if (r != -EAGAIN)
                        break;
                struct pollfd p = {.fd = e->fd, .events = POLLOUT};
                int left = remaining_ms(deadline);
                if (left == 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (poll(&p, 1, left) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
        }
        pthread_mutex_unlock(&e->send_lock);
        return r == -ECONNRESET || r == -ENOTCONN ? -EPIPE : r;
}

void exec_event_deinit(ExecEvent *ev)
{
        free(ev->data);
        json_decref(ev->result);
        *ev = (ExecEvent){};
}

static int next_event_locked(Executor *e, ExecEvent *ret, int timeout_ms)
{
        if (e->dead)
                return -EPIPE;
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        int n = poll(&p, 1, timeout_ms);
        if (n < 0)
                return errno == EINTR ? -EAGAIN : -errno;
        if (n == 0)
                return -EAGAIN;
        int fd;
        ssize_t len = exec_wire_recv(e->fd, e->buf, EVENT_BUFFER_BYTES, &fd, MSG_DONTWAIT);
        if (len == -EAGAIN)
                return -EAGAIN;
        if (len == 0 || len == -ECONNRESET) {
                e->dead = true;
                return -EPIPE;
        }
        if (len < 0)
                return len == -EMSGSIZE ? -EPROTO : (int)len;
        _cleanup_close_ int owned = fd;
        return exec_event_decode(e->buf, (size_t)len, owned, ret);
}

/* Takes the next event; see executor.h. */
int executor_next_event(Executor *e, ExecEvent *ret, int timeout_ms)
{
        pthread_mutex_lock(&e->recv_lock);
        int r = next_event_locked(e, ret, timeout_ms);
        pthread_mutex_unlock(&e->recv_lock);
        return r;
}
