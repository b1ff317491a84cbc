/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the executor (worker/executor.c) runs jobs in its forked launcher process, streams
 * their events back, survives a slow reader, and leaves nothing behind when it stops or dies.
 *
 * The wire codec is checked first (no privileges needed); the rest needs root and a launcher, and
 * is skipped (77) without them. SENTINEL_EXECUTOR_BENCH=N sets the runs of the latency lines. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "config.h"
#include "executor-proto.h"
#include "executor.h"
#include "sentinel-config.h"
#include "time-util.h"

static double slowdown = 1.0; /* SENTINEL_TEST_SLOWDOWN: deadlines scale under emulation */

static int scaled_ms(int ms)
{
        return (int)(ms * slowdown);
}

/* ---- the wire codec (no privileges) ----------------------------------------------------------- */

static int seqpacket_pair(int sv[2])
{
        return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/* Sends a request header (and fd) over a fresh socketpair and decodes it on the other side. */
static int roundtrip(const Config *cfg, const void *hdr, size_t len, int fd, ExecDecodedRequest *ret, char *err,
        size_t errlen)
{
        int sv[2];
        if (seqpacket_pair(sv) < 0)
                return -errno;
        char buf[sizeof(ExecWireRequest) + 1];
        int rfd = -1;
        int r = exec_wire_send(sv[0], hdr, len, NULL, 0, fd, 0);
        ssize_t n = r < 0 ? r : exec_wire_recv(sv[1], buf, sizeof buf, &rfd, 0);
        close(sv[0]);
        close(sv[1]);
        if (n < 0)
                return (int)n;
        r = exec_request_decode(cfg, buf, (size_t)n, rfd, ret, err, errlen);
        safe_close(rfd);
        return r;
}

static void test_codec(const Config *cfg)
{
        char *const args[] = {"one", "", "three", NULL};
        ExecRequest req = {.tag = "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000", .language = "python", .source = "print(1)",
                .source_len = 8, .stdin_data = "in\0put", .stdin_len = 6, .args = args, .limits = cfg->run_default};
        req.limits.cpu_ms = 0; /* the default */
        ExecWireRequest h;
        int fd = -1;
        char err[400] = "";
        CHECK(exec_request_encode(&req, &h, &fd) == 0, "encode");
        ExecDecodedRequest d = EXEC_DECODED_REQUEST_NULL;
        int r = roundtrip(cfg, &h, sizeof h, fd, &d, err, sizeof err);
        CHECK(r == 0, "decode: %s", err);
        if (r == 0) {
                CHECK(strcmp(d.tag, req.tag) == 0 && strcmp(d.language, "python") == 0, "tag, language");
                CHECK(d.source_len == 8 && memcmp(d.source, "print(1)", 8) == 0, "source");
                CHECK(d.stdin_len == 6 && memcmp(d.stdin_data, "in\0put", 6) == 0, "stdin with a NUL");
                CHECK(d.args && strcmp(d.args[0], "one") == 0 && strcmp(d.args[1], "") == 0 &&
                                strcmp(d.args[2], "three") == 0 && !d.args[3],
                        "args");
                CHECK(d.limits.cpu_ms == cfg->run_default.cpu_ms && d.limits.memory_kb == cfg->run_default.memory_kb,
                        "limits");
        }
        exec_decoded_request_deinit(&d);

        /* The payload memfd is sealed: the receiver can map it without fearing a truncation. */
        int seals = fcntl(fd, F_GET_SEALS);
        CHECK(seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_WRITE | F_SEAL_SEAL)) ==
                                (F_SEAL_SHRINK | F_SEAL_WRITE | F_SEAL_SEAL),
                "seals %#x", seals);
        CHECK(ftruncate(fd, 0) < 0 && errno == EPERM, "the payload can be truncated");

        /* Refused by the encoder: no tag, a tag too long, no language. */
        ExecRequest bad = req;
        int fd2 = -1;
        bad.tag = NULL;
        CHECK(exec_request_encode(&bad, &h, &fd2) == -EINVAL, "no tag");
        char longtag[EXEC_TAG_MAX + 2];
        memset(longtag, 'a', sizeof longtag - 1);
        longtag[sizeof longtag - 1] = '\0';
        bad.tag = longtag;
        CHECK(exec_request_encode(&bad, &h, &fd2) == -EINVAL, "a tag too long");
        bad = req;
        bad.language = "";
        CHECK(exec_request_encode(&bad, &h, &fd2) == -EINVAL, "no language");

        /* Refused by the decoder, with the tag known (so the job is answered) where it was readable. */
        ExecWireRequest good = h;
        CHECK(exec_request_encode(&req, &good, &fd2) == 0, "encode again");
        struct {
                const char *name;
                void (*mutate)(ExecWireRequest *w);
                bool tag_known;
        } cases[] = {
                {"type", NULL, false},
                {"source too long", NULL, true},
                {"stdin too long", NULL, true},
                {"lengths that do not add up", NULL, true},
                {"args announced", NULL, true},
                {"tag unterminated", NULL, false},
                {"limit above max", NULL, true},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ExecWireRequest w = good;
                switch (i) {
                case 0: w.type = 0; break;
                case 1: w.source_len = cfg->max_source_kb * 1024 + 1; break;
                case 2: w.stdin_len = cfg->max_stdin_kb * 1024 + 1; break;
                case 3: w.source_len -= 1; break;
                case 4: w.n_args = 2; break;
                case 5: memset(w.tag, 'x', sizeof w.tag); break;
                case 6: w.limits.memory_kb = cfg->run_max.memory_kb + 1; break;
                }
                d = (ExecDecodedRequest)EXEC_DECODED_REQUEST_NULL;
                err[0] = '\0';
                r = roundtrip(cfg, &w, sizeof w, fd2, &d, err, sizeof err);
                CHECK(r < 0 && err[0], "%s: %d \"%s\"", cases[i].name, r, err);
                CHECK((d.tag[0] != '\0') == cases[i].tag_known, "%s: tag \"%s\"", cases[i].name, d.tag);
                exec_decoded_request_deinit(&d);
        }
        /* A short header, a payload missing, a payload not sealed. */
        d = (ExecDecodedRequest)EXEC_DECODED_REQUEST_NULL;
        CHECK(roundtrip(cfg, &good, sizeof good - 1, fd2, &d, err, sizeof err) == -EBADMSG, "short header");
        CHECK(roundtrip(cfg, &good, sizeof good, -1, &d, err, sizeof err) == -EBADMSG && d.tag[0], "no payload");
        _cleanup_close_ int unsealed = memfd_create("x", MFD_CLOEXEC);
        CHECK(unsealed >= 0 && ftruncate(unsealed, (off_t)(8 + 6 + 11)) == 0, "memfd");
        CHECK(roundtrip(cfg, &good, sizeof good, unsealed, &d, err, sizeof err) == -EBADMSG, "unsealed payload");
        CHECK(strstr(err, "sealed"), "unsealed: \"%s\"", err);
        safe_close(fd);
        safe_close(fd2);

        /* Events: each type, and what the worker refuses. */
        ExecWireEvent ev;
        ExecEvent out = {};
        char buf[sizeof ev + 64];
        exec_wire_event_init(&ev, EXEC_WIRE_OUTPUT, "t1");
        ev.stream = 2;
        memcpy(buf, &ev, sizeof ev);
        memcpy(buf + sizeof ev, "abc", 3);
        CHECK(exec_event_decode(buf, sizeof ev + 3, -1, &out) == 0 && out.type == EXEC_EVENT_OUTPUT &&
                        out.stream == 2 && out.len == 3 && memcmp(out.data, "abc", 4) == 0 && strcmp(out.tag, "t1") == 0,
                "output event");
        exec_event_deinit(&out);
        CHECK(exec_event_decode(buf, sizeof ev, -1, &out) == -EPROTO, "empty output");
        ev.stream = 3;
        memcpy(buf, &ev, sizeof ev);
        CHECK(exec_event_decode(buf, sizeof ev + 3, -1, &out) == -EPROTO, "stream 3");
        CHECK(exec_event_decode(buf, sizeof ev - 1, -1, &out) == -EPROTO, "short event");

        exec_wire_event_init(&ev, EXEC_WIRE_DONE, "t2");
        const char *json = "{\"status\":\"ACCEPTED\"}";
        memcpy(buf, &ev, sizeof ev);
        memcpy(buf + sizeof ev, json, strlen(json));
        CHECK(exec_event_decode(buf, sizeof ev + strlen(json), -1, &out) == 0 && out.type == EXEC_EVENT_DONE &&
                        strcmp(json_string_value(json_object_get(out.result, "status")), "ACCEPTED") == 0,
                "done event");
        exec_event_deinit(&out);
        CHECK(exec_event_decode(buf, sizeof ev + 3, -1, &out) == -EPROTO, "done with broken JSON");
        struct iovec part = {.iov_base = (void *)json, .iov_len = strlen(json)};
        int jfd = -1;
        CHECK(exec_memfd_new(&part, 1, &jfd) == 0, "memfd_new");
        ev.flags = EXEC_WIRE_DONE_IN_MEMFD | EXEC_WIRE_DONE_OUTPUT_DROPPED;
        CHECK(exec_event_decode(&ev, sizeof ev, jfd, &out) == 0 && out.output_dropped && json_is_object(out.result),
                "done in a memfd");
        exec_event_deinit(&out);
        safe_close(jfd);
}

/* ---- the host: sandbox processes and cgroups --------------------------------------------------- */

static bool read_status(pid_t pid, uid_t *ret_uid, pid_t *ret_ppid)
{
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        bool got_uid = false, got_ppid = false;
        while (f && fgets(line, sizeof line, f)) {
                int v;
                if (strncmp(line, "Uid:", 4) == 0)
                        got_uid = sscanf(line + 4, "%u", ret_uid) == 1;
                else if (strncmp(line, "PPid:", 5) == 0 && sscanf(line + 5, "%d", &v) == 1) {
                        *ret_ppid = v;
                        got_ppid = true;
                }
        }
        return got_uid && got_ppid;
}

static bool descends_from(pid_t pid, pid_t ancestor)
{
        for (int depth = 0; depth < 8 && pid > 1; depth++) {
                uid_t uid;
                pid_t ppid;
                if (!read_status(pid, &uid, &ppid))
                        return false;
                if (ppid == ancestor)
                        return true;
                pid = ppid;
        }
        return false;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Processes with a sandbox uid below `ancestor`. Returns how many (at most max stored). */
static size_t sandbox_pids(const Config *cfg, pid_t ancestor, pid_t *pids, size_t max)
{
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        size_t n = 0;
        for (struct dirent *de; d && (de = readdir(d));) {
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                pid_t pid = (pid_t)atoi(de->d_name);
                uid_t uid;
                pid_t ppid;
                if (read_status(pid, &uid, &ppid) && uid >= cfg->uid_base && uid < cfg->uid_base + 4096 &&
                        descends_from(pid, ancestor)) {
                        if (n < max)
                                pids[n] = pid;
                        n++;
                }
        }
        return n;
}

/* Our cgroup directories in the memory, pids and cpuacct hierarchies (v1) and the unified one. */
static size_t own_cgroup_dirs(char dirs[][512], size_t max)
{
        char mounts[8][2][256]; /* controller list ("" for cgroup2), mount point */
        size_t n_mounts = 0, n = 0;
        _cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
        char line[1024];
        while (mi && n_mounts < ELEMENTSOF(mounts) && fgets(line, sizeof line, mi)) {
                char mp[256], fstype[64], src[64], opts[256];
                char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mp) != 1 ||
                        sscanf(sep + 3, "%63s %63s %255s", fstype, src, opts) != 3)
                        continue;
                if (strcmp(fstype, "cgroup2") == 0)
                        snprintf(mounts[n_mounts][0], 256, "%s", "");
                else if (strcmp(fstype, "cgroup") == 0)
                        snprintf(mounts[n_mounts][0], 256, "%s", opts);
                else
                        continue;
                snprintf(mounts[n_mounts++][1], 256, "%s", mp);
        }
        _cleanup_fclose_ FILE *cg = fopen("/proc/self/cgroup", "re");
        while (cg && n < max && fgets(line, sizeof line, cg)) {
                line[strcspn(line, "\n")] = '\0';
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                for (size_t i = 0; i < n_mounts && n < max; i++) {
                        bool v2 = mounts[i][0][0] == '\0' && ctrls[0] == '\0';
                        bool v1 = ctrls[0] && (strstr(ctrls, "memory") || strstr(ctrls, "pids") || strstr(ctrls, "cpuacct")) &&
                                  strstr(mounts[i][0], ctrls);
                        if (v1 || v2)
                                snprintf(dirs[n++], 512, "%s%s", mounts[i][1], path);
                }
        }
        return n;
}

/* How many "sentinel-<pid>" cgroups exist below ours (v2: below the parent of our "supervisor"
 * leaf when we were started in one, as the launcher then works from there). */
static size_t cgroups_of(pid_t pid)
{
        char dirs[8][512], name[32], p[1100];
        size_t n_dirs = own_cgroup_dirs(dirs, ELEMENTSOF(dirs)), found = 0;
        snprintf(name, sizeof name, "sentinel-%d", (int)pid);
        struct stat st;
        for (size_t i = 0; i < n_dirs; i++) {
                size_t l = strlen(dirs[i]);
                if (l > 11 && strcmp(dirs[i] + l - 11, "/supervisor") == 0)
                        dirs[i][l - 11] = '\0';
                snprintf(p, sizeof p, "%s/%s", dirs[i], name);
                found += stat(p, &st) == 0;
        }
        return found;
}

/* ---- jobs and their events --------------------------------------------------------------------- */

typedef struct Trace {
        char tag[EXEC_TAG_MAX + 1];
        JobPhase phases[4];
        unsigned n_phases;
        char *out[3]; /* [1] stdout, [2] stderr, as the OUTPUT events brought them */
        size_t out_len[3], out_alloc[3];
        unsigned n_done;
        bool event_after_done, output_before_running;
        json_t *result;
        bool dropped;
        uint64_t submit_ns, done_ns;
} Trace;

static void trace_deinit(Trace *t)
{
        free(t->out[1]);
        free(t->out[2]);
        json_decref(t->result);
        *t = (Trace){};
}

static const char *status_of(const Trace *t)
{
        const char *s = json_string_value(json_object_get(t->result, "status"));
        return s ? s : "(none)";
}

static const char *string_of(const Trace *t, const char *key, size_t *ret_len)
{
        json_t *v = json_object_get(t->result, key);
        if (ret_len)
                *ret_len = json_string_length(v);
        return json_string_value(v) ? json_string_value(v) : "";
}

static Limits default_limits(const Config *cfg)
{
        return cfg->run_default;
}

static int submit(Executor *e, Trace *t, const char *tag, const char *lang, const char *src, const char *in,
        size_t in_len, Limits limits)
{
        *t = (Trace){};
        snprintf(t->tag, sizeof t->tag, "%s", tag);
        ExecRequest req = {.tag = tag, .language = lang, .source = src, .source_len = strlen(src), .stdin_data = in,
                .stdin_len = in_len, .limits = limits};
        t->submit_ns = now_monotonic_ns();
        int r = executor_submit(e, &req);
        CHECK(r == 0, "submit %s: %s", tag, strerror(-r));
        return r;
}

/* Applies one event to the trace it belongs to. */
static void apply(Trace *traces, size_t n, ExecEvent *ev, char (*phase_log)[EXEC_TAG_MAX + 1], size_t *n_phase_log)
{
        Trace *t = NULL;
        for (size_t i = 0; i < n && !t; i++)
                if (strcmp(traces[i].tag, ev->tag) == 0)
                        t = &traces[i];
        CHECK(t, "an event for an unknown tag \"%s\"", ev->tag);
        if (!t)
                return;
        if (t->n_done)
                t->event_after_done = true;
        switch (ev->type) {
        case EXEC_EVENT_PHASE:
                if (t->n_phases < ELEMENTSOF(t->phases))
                        t->phases[t->n_phases++] = ev->phase;
                if (phase_log && ev->phase == JOB_RUNNING)
                        snprintf(phase_log[(*n_phase_log)++], EXEC_TAG_MAX + 1, "%s", ev->tag);
                break;
        case EXEC_EVENT_OUTPUT: {
                if (t->n_phases == 0 || t->phases[t->n_phases - 1] != JOB_RUNNING)
                        t->output_before_running = true;
                int s = ev->stream == 2 ? 2 : 1;
                if (t->out_len[s] + ev->len + 1 > t->out_alloc[s]) {
                        /* Geometric: ASan's realloc always copies. */
                        size_t want = MAX(t->out_alloc[s] * 2, t->out_len[s] + ev->len + 1);
                        char *p = realloc(t->out[s], want);
                        if (!p)
                                abort();
                        t->out[s] = p;
                        t->out_alloc[s] = want;
                }
                memcpy(t->out[s] + t->out_len[s], ev->data, ev->len);
                t->out_len[s] += ev->len;
                t->out[s][t->out_len[s]] = '\0';
                break;
        }
        case EXEC_EVENT_DONE:
                t->n_done++;
                t->done_ns = now_monotonic_ns();
                json_decref(t->result);
                t->result = json_incref(ev->result);
                t->dropped = ev->output_dropped;
                break;
        }
}

/* Reads events until every trace has its DONE, or timeout_ms passed. Returns the last error of
 * executor_next_event() (-EPIPE when the child died), or 0. */
static int collect(Executor *e, Trace *traces, size_t n, int timeout_ms, char (*phase_log)[EXEC_TAG_MAX + 1],
        size_t *n_phase_log)
{
        uint64_t deadline = now_monotonic_ms() + (uint64_t)scaled_ms(timeout_ms);
        for (;;) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all = all && traces[i].n_done > 0;
                if (all)
                        return 0;
                if (now_monotonic_ms() > deadline) {
                        CHECK(false, "events: timed out");
                        return -ETIMEDOUT;
                }
                ExecEvent ev = {};
                int r = executor_next_event(e, &ev, 100);
                if (r == -EAGAIN)
                        continue;
                if (r < 0)
                        return r;
                apply(traces, n, &ev, phase_log, n_phase_log);
                exec_event_deinit(&ev);
        }
}

static void check_done_once(const Trace *t)
{
        CHECK(t->n_done == 1, "%s: %u DONE events", t->tag, t->n_done);
        CHECK(!t->event_after_done, "%s: an event after DONE", t->tag);
        CHECK(!t->output_before_running, "%s: OUTPUT before PHASE running", t->tag);
}

/* Runs one job and waits for it. */
static void run_one(Executor *e, Trace *t, const char *tag, const char *lang, const char *src, const char *in,
        size_t in_len, Limits limits)
{
        if (submit(e, t, tag, lang, src, in, in_len, limits) == 0)
                CHECK(collect(e, t, 1, 30000, NULL, NULL) == 0, "%s: no DONE", tag);
        check_done_once(t);
}

/* Names the next part, with the time since the last. */
static void section(const char *name)
{
        static uint64_t last;
        uint64_t now = now_monotonic_ms();
        if (last)
                printf("  (%llu ms)\n", (unsigned long long)(now - last));
        printf("== %s\n", name);
        last = now;
}

/* ---- the cases ------------------------------------------------------------------------------------ */

static void test_hello(Executor *e, const Config *cfg)
{
        Trace t;
        run_one(e, &t, "hello", "python", "print(\"hi\")\n", NULL, 0, default_limits(cfg));
        CHECK(strcmp(status_of(&t), "ACCEPTED") == 0, "hello: %s \"%s\"", status_of(&t), string_of(&t, "message", NULL));
        CHECK(t.n_phases == 1 && t.phases[0] == JOB_RUNNING, "hello: %u phases", t.n_phases);
        CHECK(t.out_len[1] == 3 && memcmp(t.out[1], "hi\n", 3) == 0, "hello: OUTPUT \"%s\"", t.out[1] ? t.out[1] : "");
        CHECK(strcmp(string_of(&t, "stdout", NULL), "hi\n") == 0, "hello: result stdout");
        CHECK(!t.dropped, "hello: output dropped");
        /* The same fields as sentinel-run --json. */
        static const char *const keys[] = {"status", "exit_code", "signal", "cpu_time", "wall_time", "memory",
                "stdout", "stderr", "compile_output", "message", "stdout_truncated", "stderr_truncated",
                "compile_output_truncated", "oom_killed"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                CHECK(json_object_get(t.result, keys[i]), "hello: no \"%s\" in the result", keys[i]);
        trace_deinit(&t);
}

static void test_compiled(Executor *e, const Config *cfg)
{
        Trace t;
        run_one(e, &t, "c-program", "c", "#include <stdio.h>\nint main(void) { puts(\"c ok\"); return 0; }\n", NULL,
                0, default_limits(cfg));
        CHECK(strcmp(status_of(&t), "ACCEPTED") == 0, "c: %s \"%s\" %s", status_of(&t),
                string_of(&t, "message", NULL), string_of(&t, "compile_output", NULL));
        CHECK(t.n_phases == 2 && t.phases[0] == JOB_COMPILING && t.phases[1] == JOB_RUNNING, "c: %u phases",
                t.n_phases);
        CHECK(t.out_len[1] == 5 && memcmp(t.out[1], "c ok\n", 5) == 0, "c: OUTPUT");
        CHECK(json_is_object(json_object_get(t.result, "compile")), "c: no compile step in the result");
        trace_deinit(&t);
}

typedef struct Submitter {
        Executor *e;
        const Config *cfg;
        Trace *traces;
        size_t n;
        int go[2]; /* a byte on go[1] starts the submissions */
} Submitter;

/* The worker's shape: jobs are submitted from another thread than the one reading events. */
static void *submitter_main(void *userdata)
{
        Submitter *s = userdata;
        char c;
        if (RETRY_EINTR(read(s->go[0], &c, 1)) != 1)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                char tag[32], src[128];
                snprintf(tag, sizeof tag, "concurrent-%zu", i);
                snprintf(src, sizeof src, "import time\ntime.sleep(0.1)\nprint(\"job %zu\")\n", i);
                submit(s->e, &s->traces[i], tag, "python", src, NULL, 0, default_limits(s->cfg));
        }
        return NULL;
}

static void test_concurrent(Executor *e, Submitter *s)
{
        /* The tags must be known before events arrive: the submitter fills them as it goes. */
        for (size_t i = 0; i < s->n; i++)
                snprintf(s->traces[i].tag, sizeof s->traces[i].tag, "concurrent-%zu", i);
        CHECK(write(s->go[1], "g", 1) == 1, "go");
        /* Events for a trace the submitter has not reset yet are possible only after its submit, so
         * wait for the submissions to be made before reading. */
        uint64_t deadline = now_monotonic_ms() + (uint64_t)scaled_ms(5000);
        while (now_monotonic_ms() < deadline) {
                bool all = true;
                for (size_t i = 0; i < s->n; i++)
                        all = all && __atomic_load_n(&s->traces[i].submit_ns, __ATOMIC_ACQUIRE) != 0;
                if (all)
                        break;
                usleep(1000);
        }
        CHECK(collect(e, s->traces, s->n, 60000, NULL, NULL) == 0, "concurrent: not all done");
        for (size_t i = 0; i < s->n; i++) {
                Trace *t = &s->traces[i];
                char want[32];
                snprintf(want, sizeof want, "job %zu\n", i);
                check_done_once(t);
                CHECK(strcmp(status_of(t), "ACCEPTED") == 0, "%s: %s", t->tag, status_of(t));
                CHECK(t->out[1] && strcmp(t->out[1], want) == 0 && strcmp(string_of(t, "stdout", NULL), want) == 0,
                        "%s: output \"%s\"", t->tag, t->out[1] ? t->out[1] : "");
                trace_deinit(t);
        }
}

static void test_big_stdin(Executor *e, const Config *cfg)
{
        size_t len = 2u << 20;
        _cleanup_free_ char *in = malloc(len);
        if (!in)
                abort();
        /* Printable, so the JSON string of the result is byte for byte the same. */
        for (size_t i = 0; i < len; i++)
                in[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
        Limits lim = default_limits(cfg);
        lim.output_kb = 4096;
        Trace t;
        run_one(e, &t, "stdin-2m", "python", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n", in,
                len, lim);
        size_t out_len;
        const char *out = string_of(&t, "stdout", &out_len);
        CHECK(strcmp(status_of(&t), "ACCEPTED") == 0, "stdin: %s \"%s\"", status_of(&t), string_of(&t, "message", NULL));
        CHECK(out_len == len && memcmp(out, in, len) == 0, "stdin: the result's stdout has %zu bytes", out_len);
        CHECK(t.out_len[1] == len && memcmp(t.out[1], in, len) == 0, "stdin: OUTPUT brought %zu bytes", t.out_len[1]);
        trace_deinit(&t);
}

static void test_output_limit(Executor *e, const Config *cfg)
{
        Limits lim = default_limits(cfg);
        lim.output_kb = 1024;
        Trace t;
        run_one(e, &t, "output-5m", "python", "import sys\nsys.stdout.write(\"x\" * 5000000)\n", NULL, 0, lim);
        size_t out_len;
        string_of(&t, "stdout", &out_len);
        CHECK(strcmp(status_of(&t), "OUTPUT_LIMIT_EXCEEDED") == 0, "output: %s", status_of(&t));
        CHECK(t.out_len[1] == 1024 * 1024, "output: OUTPUT events brought %zu bytes", t.out_len[1]);
        CHECK(out_len == 1024 * 1024 && json_is_true(json_object_get(t.result, "stdout_truncated")),
                "output: the result's stdout has %zu bytes", out_len);
        trace_deinit(&t);
}

static void test_unknown_language(Executor *e, const Config *cfg)
{
        Trace t;
        run_one(e, &t, "unknown-language", "cobol", "DISPLAY 'HI'.", NULL, 0, default_limits(cfg));
        CHECK(strcmp(status_of(&t), "INTERNAL_ERROR") == 0, "unknown language: %s", status_of(&t));
        CHECK(strstr(string_of(&t, "message", NULL), "unknown language"), "unknown language: \"%s\"",
                string_of(&t, "message", NULL));
        CHECK(t.n_phases == 0, "unknown language: %u phases", t.n_phases);
        trace_deinit(&t);

        /* A limit above the operator's maximum is refused by the executor too (the API checks first). */
        Limits lim = default_limits(cfg);
        lim.wall_ms = cfg->run_max.wall_ms + 1;
        run_one(e, &t, "limit-too-high", "bash", "exit 0", NULL, 0, lim);
        CHECK(strcmp(status_of(&t), "INTERNAL_ERROR") == 0 && strstr(string_of(&t, "message", NULL), "wall_ms"),
                "limit: %s \"%s\"", status_of(&t), string_of(&t, "message", NULL));
        trace_deinit(&t);
}

/* More requests than slots wait in FIFO order; beyond the queue they are refused, each answered. */
static void test_queue(Executor *e, const Config *cfg)
{
        unsigned slots = executor_slots(e), n = slots + 4 * slots + 2;
        Trace *t = calloc(n, sizeof *t);
        char (*started)[EXEC_TAG_MAX + 1] = calloc(n, sizeof *started);
        if (!t || !started)
                abort();
        size_t n_started = 0;
        for (unsigned i = 0; i < n; i++) {
                char tag[32];
                snprintf(tag, sizeof tag, "queued-%02u", i);
                submit(e, &t[i], tag, "bash", "sleep 0.4; echo done", NULL, 0, default_limits(cfg));
        }
        CHECK(collect(e, t, n, 60000, started, &n_started) == 0, "queue: not all done");
        unsigned full = 0, ok = 0;
        for (unsigned i = 0; i < n; i++) {
                check_done_once(&t[i]);
                if (strstr(string_of(&t[i], "message", NULL), "queue full"))
                        full++;
                else if (strcmp(status_of(&t[i]), "ACCEPTED") == 0 && t[i].out[1] && strcmp(t[i].out[1], "done\n") == 0)
                        ok++;
        }
        CHECK(full == 2 && ok == n - 2, "queue: %u refused, %u ran, of %u", full, ok, n);
        /* They started in the order they came. */
        bool ordered = n_started == ok;
        for (size_t i = 1; ordered && i < n_started; i++)
                ordered = strcmp(started[i - 1], started[i]) < 0;
        CHECK(ordered, "queue: %zu started, not in order", n_started);
        for (unsigned i = 0; i < n; i++)
                trace_deinit(&t[i]);
        free(t);
        free(started);
}

/* A worker that stops reading does not stall the executor: a big job's OUTPUT is dropped past
 * the outbox bound (DONE still carries it all), and another job runs on undisturbed. */
static void test_slow_reader(Executor *e, const Config *cfg)
{
        Limits big = default_limits(cfg);
        big.output_kb = 65536;
        big.wall_ms = MIN(cfg->run_max.wall_ms, (uint64_t)scaled_ms(30000));
        const char *src = "import sys\nb = 'y' * (1 << 20)\nfor i in range(48):\n    sys.stdout.write(b)\n"
                          "    sys.stderr.write(b)\n";
        Trace t[2];
        if (submit(e, &t[0], "big-output", "python", src, NULL, 0, big) < 0)
                return;
        /* Wait (without reading) until the big job's program ran, then until the small one's did. */
        pid_t pids[16];
        uint64_t deadline = now_monotonic_ms() + (uint64_t)scaled_ms(10000);
        while (sandbox_pids(cfg, executor_child_pid(e), pids, ELEMENTSOF(pids)) == 0 && now_monotonic_ms() < deadline)
                usleep(10000);
        submit(e, &t[1], "small-beside", "bash", "echo b", NULL, 0, default_limits(cfg));
        deadline = now_monotonic_ms() + (uint64_t)scaled_ms(30000);
        while (sandbox_pids(cfg, executor_child_pid(e), pids, ELEMENTSOF(pids)) > 0 && now_monotonic_ms() < deadline)
                usleep(20000);
        usleep((useconds_t)scaled_ms(300) * 1000); /* the last pidfd events, still without reading */

        CHECK(collect(e, t, 2, 60000, NULL, NULL) == 0, "slow reader: not all done");
        size_t out_len, err_len;
        const char *out = string_of(&t[0], "stdout", &out_len);
        const char *err = string_of(&t[0], "stderr", &err_len);
        size_t want = (size_t)48 << 20;
        check_done_once(&t[0]);
        check_done_once(&t[1]);
        CHECK(strcmp(status_of(&t[0]), "ACCEPTED") == 0, "big: %s \"%s\"", status_of(&t[0]),
                string_of(&t[0], "message", NULL));
        CHECK(out_len == want && err_len == want, "big: result stdout %zu, stderr %zu bytes", out_len, err_len);
        CHECK(t[0].dropped, "big: no output dropped with %zu + %zu bytes streamed", t[0].out_len[1], t[0].out_len[2]);
        CHECK(t[0].out_len[1] + t[0].out_len[2] < 2 * want, "big: %zu bytes streamed",
                t[0].out_len[1] + t[0].out_len[2]);
        /* What was streamed is a prefix: dropping stops a stream, it never leaves a hole. */
        CHECK(t[0].out_len[1] <= out_len && (!t[0].out_len[1] || memcmp(t[0].out[1], out, t[0].out_len[1]) == 0) &&
                        t[0].out_len[2] <= err_len && (!t[0].out_len[2] || memcmp(t[0].out[2], err, t[0].out_len[2]) == 0),
                "big: the streamed output is not a prefix of the result's");
        CHECK(strcmp(status_of(&t[1]), "ACCEPTED") == 0 && t[1].out[1] && strcmp(t[1].out[1], "b\n") == 0,
                "small: %s", status_of(&t[1]));
        /* Its end was seen when it happened, not when we read again. */
        double wall = json_real_value(json_object_get(t[1].result, "wall_time"));
        CHECK(wall < 2.0 * slowdown, "small: wall time %.3f s", wall);
        trace_deinit(&t[0]);
        trace_deinit(&t[1]);
}

static void test_latency(Executor *e, const Config *cfg, const char *lang, const char *src, unsigned runs)
{
        double *ms = calloc(runs, sizeof *ms);
        if (!ms)
                abort();
        unsigned ok = 0;
        for (unsigned i = 0; i < runs; i++) {
                Trace t;
                char tag[32];
                snprintf(tag, sizeof tag, "latency-%u", i);
                run_one(e, &t, tag, lang, src, NULL, 0, default_limits(cfg));
                if (strcmp(status_of(&t), "ACCEPTED") == 0)
                        ms[ok++] = (double)(t.done_ns - t.submit_ns) / 1e6;
                trace_deinit(&t);
        }
        CHECK(ok == runs, "latency: %u of %u accepted", ok, runs);
        for (unsigned i = 1; i < ok; i++) /* insertion sort: a few dozen values */
                for (unsigned k = i; k > 0 && ms[k - 1] > ms[k]; k--) {
                        double x = ms[k];
                        ms[k] = ms[k - 1];
                        ms[k - 1] = x;
                }
        if (ok)
                printf("  submit -> DONE, %s %-24s median %.2f ms, min %.2f ms, max %.2f ms (%u runs)\n", lang, src,
                        ms[ok / 2], ms[0], ms[ok - 1], ok);
        free(ms);
}

/* Waits for a long job to run, and returns its sandbox processes (pidfds) in pidfds. */
static size_t start_long_job(Executor *e, const Config *cfg, Trace *t, const char *tag, int *pidfds, size_t max)
{
        if (submit(e, t, tag, "bash", "sleep 30 & sleep 30", NULL, 0, default_limits(cfg)) < 0)
                return 0;
        pid_t pids[16];
        size_t n = 0;
        uint64_t deadline = now_monotonic_ms() + (uint64_t)scaled_ms(10000);
        /* init and two sleeps, and bash unless it exec()ed the last one. */
        while ((n = sandbox_pids(cfg, executor_child_pid(e), pids, ELEMENTSOF(pids))) < 3 && now_monotonic_ms() < deadline)
                usleep(10000);
        CHECK(n >= 3, "%s: %zu sandbox processes", tag, n);
        n = MIN(n, MIN(max, ELEMENTSOF(pids)));
        for (size_t i = 0; i < n; i++)
                pidfds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
        return n;
}

static void check_dead(int *pidfds, size_t n, const char *what)
{
        for (size_t i = 0; i < n; i++) {
                struct pollfd p = {.fd = pidfds[i], .events = POLLIN};
                CHECK(pidfds[i] < 0 || poll(&p, 1, scaled_ms(3000)) == 1, "%s: a sandbox process outlived it", what);
                safe_close(pidfds[i]);
        }
}

/* Reaps what the dead executor's sandboxes left to us (we are their subreaper). */
static void reap_orphans(void)
{
        uint64_t deadline = now_monotonic_ms() + 5000;
        while (now_monotonic_ms() < deadline) {
                pid_t p = waitpid(-1, NULL, WNOHANG);
                if (p < 0)
                        return; /* ECHILD: none left */
                if (p == 0)
                        usleep(10000);
        }
        CHECK(false, "children left after 5 s");
}

/* The child dies: the worker sees -EPIPE, and a new executor starts cleanly on its leftovers. */
static void test_child_killed(Executor **e, const Config *cfg, const char *dir)
{
        Trace t;
        int pidfds[16];
        size_t n = start_long_job(*e, cfg, &t, "killed", pidfds, ELEMENTSOF(pidfds));
        pid_t old = executor_child_pid(*e);
        CHECK(cgroups_of(old) > 0, "no cgroup for the executor %d", (int)old);
        CHECK(kill(old, SIGKILL) == 0, "kill");
        int r = collect(*e, &t, 1, 10000, NULL, NULL);
        CHECK(r == -EPIPE, "after SIGKILL: %d (%s)", r, strerror(-r));
        CHECK(t.n_done == 0, "killed: a DONE");
        ExecEvent ev = {};
        CHECK(executor_next_event(*e, &ev, 0) == -EPIPE, "-EPIPE again");
        ExecRequest req = {.tag = "after-death", .language = "bash", .source = "exit 0", .source_len = 6,
                .limits = cfg->run_default};
        CHECK(executor_submit(*e, &req) == -EPIPE, "submit after death");
        *e = executor_free(*e);
        check_dead(pidfds, n, "SIGKILL of the executor");
        reap_orphans();
        trace_deinit(&t);

        char err[512] = "";
        r = executor_start(cfg, dir, 2, e, err, sizeof err);
        CHECK(r == 0, "restart: %s", err);
        if (r < 0)
                return;
        /* The new launcher removed the dead one's cgroups as stale. */
        CHECK(cgroups_of(old) == 0, "%zu cgroups of the dead executor %d left", cgroups_of(old), (int)old);
        test_hello(*e, cfg);
}

/* SIGTERM: with no grace, running jobs are cancelled (answered) after the short margin that lets
 * the worker's own deadline come first, and the child exits; with grace, they finish, new ones
 * still run, and closing the socket ends it at once. */
static void test_sigterm(Executor **e, Config *cfg, const char *dir)
{
        char err[512] = "";
        *e = executor_free(*e);
        cfg->shutdown_grace_ms = 0;
        int r = executor_start(cfg, dir, 2, e, err, sizeof err);
        CHECK(r == 0, "start: %s", err);
        if (r < 0)
                return;
        Trace t;
        int pidfds[16];
        size_t n = start_long_job(*e, cfg, &t, "terminated", pidfds, ELEMENTSOF(pidfds));
        pid_t child = executor_child_pid(*e);
        uint64_t t0 = now_monotonic_ms();
        CHECK(kill(child, SIGTERM) == 0, "SIGTERM");
        r = collect(*e, &t, 1, 10000, NULL, NULL);
        CHECK(r == 0 && strcmp(status_of(&t), "INTERNAL_ERROR") == 0 &&
                        strstr(string_of(&t, "message", NULL), "cancelled"),
                "SIGTERM: %d %s \"%s\"", r, status_of(&t), string_of(&t, "message", NULL));
        ExecEvent ev = {};
        r = executor_next_event(*e, &ev, scaled_ms(10000));
        CHECK(r == -EPIPE, "SIGTERM: then %d", r);
        uint64_t took = now_monotonic_ms() - t0;
        CHECK(took >= 1500 && took < (uint64_t)scaled_ms(6000), "SIGTERM: took %llu ms", (unsigned long long)took);
        *e = executor_free(*e);
        check_dead(pidfds, n, "SIGTERM");
        CHECK(cgroups_of(child) == 0, "SIGTERM: %zu cgroups left", cgroups_of(child));
        trace_deinit(&t);

        cfg->shutdown_grace_ms = 20000;
        r = executor_start(cfg, dir, 2, e, err, sizeof err);
        CHECK(r == 0, "start: %s", err);
        if (r < 0)
                return;
        child = executor_child_pid(*e);
        Trace g[2];
        if (submit(*e, &g[0], "graceful", "bash", "sleep 0.5; echo ok", NULL, 0, default_limits(cfg)) == 0) {
                /* Wait for it to run, then signal. */
                pid_t pids[4];
                uint64_t deadline = now_monotonic_ms() + (uint64_t)scaled_ms(10000);
                while (sandbox_pids(cfg, child, pids, ELEMENTSOF(pids)) == 0 && now_monotonic_ms() < deadline)
                        usleep(10000);
                CHECK(kill(child, SIGTERM) == 0, "SIGTERM");
                usleep(50000);
                submit(*e, &g[1], "during-grace", "bash", "echo late", NULL, 0, default_limits(cfg));
                r = collect(*e, g, 2, 10000, NULL, NULL);
                CHECK(r == 0 && strcmp(status_of(&g[0]), "ACCEPTED") == 0 && g[0].out[1] && strcmp(g[0].out[1], "ok\n") == 0,
                        "grace: %s", status_of(&g[0]));
                CHECK(strcmp(status_of(&g[1]), "ACCEPTED") == 0 && g[1].out[1] && strcmp(g[1].out[1], "late\n") == 0,
                        "grace, a late job: %s \"%s\"", status_of(&g[1]), string_of(&g[1], "message", NULL));
                trace_deinit(&g[0]);
                trace_deinit(&g[1]);
        }
        uint64_t t1 = now_monotonic_ms();
        *e = executor_free(*e);
        CHECK(now_monotonic_ms() - t1 < (uint64_t)scaled_ms(3000), "free during grace took %llu ms",
                (unsigned long long)(now_monotonic_ms() - t1));
        CHECK(cgroups_of(child) == 0, "grace: %zu cgroups left", cgroups_of(child));
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (getenv("SENTINEL_TEST_SLOWDOWN"))
                slowdown = MAX(1.0, atof(getenv("SENTINEL_TEST_SLOWDOWN")));
        char msg[1024] = "";
        _cleanup_(config_deinit) Config cfg = CONFIG_NULL;
        if (config_load(&cfg, msg, sizeof msg) < 0) {
                printf("config: %s\n", msg);
                return 1;
        }
        test_codec(&cfg);

        if (geteuid() != 0) {
                printf("skipped: the executor needs root\n");
                return test_failed() ? test_summary() : 77;
        }
        const char *dir = getenv("SENTINEL_POLICY_DIR") ? cfg.policy_dir : SENTINEL_SOURCE_POLICY_DIR;
        /* Orphans of a killed executor come to us, so we can see them die and reap them. */
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");

        /* Before any thread, as the worker does. */
        Executor *e = NULL;
        int r = executor_start(&cfg, dir, 2, &e, msg, sizeof msg);
        if (r == -EPERM || r == -ENOENT || r == -EOPNOTSUPP || r == -ENODEV) {
                printf("skipped: cannot start the executor here: %s\n", msg);
                return test_failed() ? test_summary() : 77;
        }
        CHECK(r == 0, "executor_start: %s (%s)", strerror(-r), msg);
        if (r < 0)
                return test_summary();
        pid_t first = executor_child_pid(e);
        printf("executor: pid %d, %u slots\n", (int)first, executor_slots(e));
        CHECK(executor_slots(e) == 2, "%u slots", executor_slots(e));

        Trace concurrent[6] = {};
        Submitter sub = {.e = e, .cfg = &cfg, .traces = concurrent, .n = ELEMENTSOF(concurrent)};
        pthread_t thread;
        CHECK(pipe2(sub.go, O_CLOEXEC) == 0, "pipe");
        CHECK(pthread_create(&thread, NULL, submitter_main, &sub) == 0, "pthread_create");

        section("hello");
        test_hello(e, &cfg);
        section("compiled");
        test_compiled(e, &cfg);
        section("concurrent");
        test_concurrent(e, &sub);
        pthread_join(thread, NULL);
        safe_close(sub.go[0]);
        safe_close(sub.go[1]);
        section("big stdin");
        test_big_stdin(e, &cfg);
        section("output limit");
        test_output_limit(e, &cfg);
        section("unknown language");
        test_unknown_language(e, &cfg);
        section("queue");
        test_queue(e, &cfg);
        section("slow reader");
        test_slow_reader(e, &cfg);

        unsigned runs = getenv("SENTINEL_EXECUTOR_BENCH") ? (unsigned)atoi(getenv("SENTINEL_EXECUTOR_BENCH")) : 10;
        if (runs > 0) {
                test_latency(e, &cfg, "bash", "exit 0", runs);
                test_latency(e, &cfg, "python", "print(\"hi\")", runs);
        }

        /* Restarts fork again: single-threaded by now (the submitter was joined). */
        section("child killed");
        test_child_killed(&e, &cfg, dir);
        section("SIGTERM");
        test_sigterm(&e, &cfg, dir);
        e = executor_free(e);
        section("end");

        CHECK(cgroups_of(first) == 0, "%zu cgroups of the first executor left", cgroups_of(first));
        pid_t left[4];
        size_t n_left = sandbox_pids(&cfg, getpid(), left, ELEMENTSOF(left));
        CHECK(n_left == 0, "%zu sandbox processes left, first %d", n_left, n_left ? (int)left[0] : 0);
        reap_orphans();
        return test_summary();
}
