/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the launcher turns how a step ends into the right verdict, and leaves nothing behind. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "config.h"
#include "launcher.h"
#include "policy.h"
#include "sentinel-config.h"
#include "spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What one step produced, as seen through the callbacks. */
typedef struct Step {
        const char *name;
        StepResult result;
        unsigned done_calls;
        bool result_matches; /* on_done got our StepResult */
        char *out, *err;     /* everything on_output delivered */
        size_t out_len, err_len;
        uint64_t start_ms, elapsed_ms;
} Step;

static void append(char **buf, size_t *len, const char *data, size_t n)
{
        char *p = realloc(*buf, *len + n + 1);
        if (!p)
                abort();
        memcpy(p + *len, data, n);
        *len += n;
        p[*len] = '\0';
        *buf = p;
}

static void on_output(void *userdata, int stream, const char *data, size_t len)
{
        Step *s = userdata;
        if (stream == 1)
                append(&s->out, &s->out_len, data, len);
        else
                append(&s->err, &s->err_len, data, len);
}

static void on_done(void *userdata, StepResult *r)
{
        Step *s = userdata;
        s->done_calls++;
        s->result_matches = r == &s->result;
        s->elapsed_ms = now_ms() - s->start_ms;
}

static const StepCallbacks callbacks = {.on_output = on_output, .on_done = on_done};

static void step_deinit(Step *s)
{
        step_result_deinit(&s->result);
        free(s->out);
        free(s->err);
}

static bool buf_is(const char *data, size_t len, const char *want)
{
        return len == strlen(want) && memcmp(data ? data : "", want, len) == 0;
}

/* Starts a step; 0 or -errno. */
static int step_start(Launcher *l, unsigned slot, Box *box, const StepSpec *spec, Step *s, const char *name)
{
        *s = (Step){.name = name, .start_ms = now_ms()};
        int r = launcher_spawn(l, slot, box, spec, &s->result, &callbacks, s);
        CHECK(r == 0, "%s: launcher_spawn: %s", name, strerror(-r));
        return r;
}

/* Dispatches until every step given has ended (or 20 s passed). */
static void wait_steps(Launcher *l, Step **steps, size_t n)
{
        uint64_t deadline = now_ms() + 20000;
        for (;;) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all = all && steps[i]->done_calls > 0;
                if (all || now_ms() > deadline)
                        break;
                int r = launcher_dispatch(l, 100);
                if (r < 0) {
                        CHECK(false, "launcher_dispatch: %s", strerror(-r));
                        break;
                }
        }
        for (size_t i = 0; i < n; i++) {
                Step *s = steps[i];
                CHECK(s->done_calls == 1, "%s: on_done ran %u times", s->name, s->done_calls);
                CHECK(s->result_matches, "%s: on_done got another StepResult", s->name);
                if (s->done_calls == 0)
                        continue;
                /* The callback saw exactly what was kept, no more, no less. */
                CHECK(s->out_len == s->result.out.len &&
                                (s->out_len == 0 || memcmp(s->out, s->result.out.data, s->out_len) == 0),
                        "%s: on_output delivered %zu stdout bytes, %zu kept", s->name, s->out_len, s->result.out.len);
                CHECK(s->err_len == s->result.err.len &&
                                (s->err_len == 0 || memcmp(s->err, s->result.err.data, s->err_len) == 0),
                        "%s: on_output delivered %zu stderr bytes, %zu kept", s->name, s->err_len, s->result.err.len);
                printf("  %-16s %s exit %d signal %d cpu %.3f s wall %.3f s \"%s\"\n", s->name,
                        verdict_to_string(s->result.verdict), s->result.exit_code, s->result.signal,
                        (double)s->result.cpu_us / 1e6, (double)s->result.wall_us / 1e6, s->result.message);
        }
}

static void run_step(Launcher *l, unsigned slot, Box *box, const StepSpec *spec, Step *s, const char *name)
{
        if (step_start(l, slot, box, spec, s, name) < 0)
                return;
        wait_steps(l, &s, 1);
}

/* ---- finding the sandbox's processes on the host ---- */

static bool read_status(pid_t pid, uid_t *ret_uid, pid_t *ret_ppid)
{
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool got_uid = false, got_ppid = false;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "Uid:", 4) == 0)
                        got_uid = sscanf(line + 4, "%u", ret_uid) == 1;
                else if (strncmp(line, "PPid:", 5) == 0) {
                        int p;
                        got_ppid = sscanf(line + 5, "%d", &p) == 1;
                        *ret_ppid = p;
                }
        }
        return got_uid && got_ppid;
}

/* Whether pid descends from us within a few generations (sandbox init, program, its children). */
static bool is_our_descendant(pid_t pid)
{
        for (int depth = 0; depth < 6 && pid > 1; depth++) {
                uid_t uid;
                pid_t ppid;
                if (!read_status(pid, &uid, &ppid))
                        return false;
                if (ppid == getpid())
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

/* Host pids of our descendants running as a uid in [uid_lo, uid_hi]. Returns how many (at most max). */
static size_t find_sandbox_pids(uid_t uid_lo, uid_t uid_hi, pid_t *pids, size_t max)
{
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        size_t n = 0;
        struct dirent *de;
        while (d && n < max && (de = readdir(d))) {
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                pid_t pid = (pid_t)atoi(de->d_name);
                uid_t uid;
                pid_t ppid;
                if (read_status(pid, &uid, &ppid) && uid >= uid_lo && uid <= uid_hi && is_our_descendant(pid))
                        pids[n++] = pid;
        }
        return n;
}

static char proc_state(pid_t pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        return p && p[1] == ' ' ? p[2] : 0;
}

/* Every step case, in slots s0 and s1 (acquired, idle) with their boxes. */
static void cases(Launcher *l, const Config *cfg, const SeccompProgram *run_profile, unsigned s0, unsigned s1,
        Box *box0, Box *box1)
{
        Step s;
        StepSpec spec = {.envp = envp, .limits = cfg->run_default, .seccomp = run_profile, .stdin_fd = -1};

        /* A step in a slot not acquired is refused. */
        launcher_release_slot(l, s1);
        char *const true_argv[] = {"/usr/bin/true", NULL};
        spec.argv = true_argv;
        Step unused = {};
        CHECK(launcher_spawn(l, s1, box1, &spec, &unused.result, &callbacks, &unused) == -EINVAL,
                "spawn in a free slot");
        CHECK(unused.done_calls == 0, "on_done ran for a refused spawn");
        CHECK(launcher_acquire_slot(l) == (int)s1, "slot 1 again");

        /* Success. */
        run_step(l, s0, box0, &spec, &s, "true");
        CHECK(s.result.verdict == VERDICT_ACCEPTED && s.result.exit_code == 0 && s.result.signal == 0,
                "true: %s exit %d", verdict_to_string(s.result.verdict), s.result.exit_code);
        CHECK(!s.result.killed_by_supervisor, "true: killed by the supervisor");
        step_deinit(&s);

        /* A non-zero exit. */
        char *const false_argv[] = {"/usr/bin/false", NULL};
        spec.argv = false_argv;
        run_step(l, s0, box0, &spec, &s, "false");
        CHECK(s.result.verdict == VERDICT_RUNTIME_ERROR && s.result.exit_code == 1 && s.result.signal == 0,
                "false: %s exit %d", verdict_to_string(s.result.verdict), s.result.exit_code);
        step_deinit(&s);

        /* Both streams, each on its own. */
        char *const echo_argv[] = {"/usr/bin/sh", "-c", "echo out; echo err >&2", NULL};
        spec.argv = echo_argv;
        run_step(l, s0, box0, &spec, &s, "echo");
        CHECK(s.result.verdict == VERDICT_ACCEPTED, "echo: %s", verdict_to_string(s.result.verdict));
        CHECK(buf_is(s.result.out.data, s.result.out.len, "out\n"), "stdout \"%.*s\"", (int)s.result.out.len,
                s.result.out.data ? s.result.out.data : "");
        CHECK(buf_is(s.result.err.data, s.result.err.len, "err\n"), "stderr \"%.*s\"", (int)s.result.err.len,
                s.result.err.data ? s.result.err.data : "");
        CHECK(buf_is(s.out, s.out_len, "out\n") && buf_is(s.err, s.err_len, "err\n"), "callback streams");
        CHECK(!s.result.out.truncated && !s.result.err.truncated, "echo: truncated");
        step_deinit(&s);

        /* A setup error (here execve's) travels over the sync socket. */
        char *const missing_argv[] = {"/usr/bin/does-not-exist", NULL};
        spec.argv = missing_argv;
        run_step(l, s0, box0, &spec, &s, "missing");
        CHECK(s.result.verdict == VERDICT_INTERNAL_ERROR, "missing: %s", verdict_to_string(s.result.verdict));
        CHECK(strstr(s.result.message, "execve") && strstr(s.result.message, "/usr/bin/does-not-exist") &&
                        strstr(s.result.message, strerror(ENOENT)),
                "missing: message \"%s\"", s.result.message);
        step_deinit(&s);

        /* Death by a signal. */
        char *const segv_argv[] = {"/usr/bin/sh", "-c", "kill -SEGV $$", NULL};
        spec.argv = segv_argv;
        run_step(l, s0, box0, &spec, &s, "segv");
        CHECK(s.result.verdict == VERDICT_RUNTIME_ERROR && s.result.signal == SIGSEGV && s.result.exit_code == -1,
                "segv: %s signal %d exit %d", verdict_to_string(s.result.verdict), s.result.signal,
                s.result.exit_code);
        CHECK(strstr(s.result.message, "SIGSEGV"), "segv: message \"%s\"", s.result.message);
        step_deinit(&s);

        /* Wall time. */
        char *const sleep_argv[] = {"/usr/bin/sleep", "5", NULL};
        spec.argv = sleep_argv;
        spec.limits.wall_ms = 300;
        run_step(l, s0, box0, &spec, &s, "wall");
        CHECK(s.result.verdict == VERDICT_TIME_LIMIT_EXCEEDED, "wall: %s", verdict_to_string(s.result.verdict));
        CHECK(s.elapsed_ms >= 300 && s.elapsed_ms < 2000, "wall: ended after %llu ms",
                (unsigned long long)s.elapsed_ms);
        CHECK(strstr(s.result.message, "wall"), "wall: message \"%s\"", s.result.message);
        CHECK(s.result.killed_by_supervisor, "wall: not killed by the supervisor");
        step_deinit(&s);
        spec.limits = cfg->run_default;

        /* CPU time. */
        char *const spin_argv[] = {"/usr/bin/sh", "-c", "while :; do :; done", NULL};
        spec.argv = spin_argv;
        spec.limits.cpu_ms = 200;
        run_step(l, s0, box0, &spec, &s, "cpu");
        CHECK(s.result.verdict == VERDICT_TIME_LIMIT_EXCEEDED, "cpu: %s", verdict_to_string(s.result.verdict));
        CHECK(s.result.cpu_us >= 200000, "cpu: %llu us", (unsigned long long)s.result.cpu_us);
        CHECK(strstr(s.result.message, "CPU"), "cpu: message \"%s\"", s.result.message);
        CHECK(s.elapsed_ms < 3000, "cpu: ended after %llu ms", (unsigned long long)s.elapsed_ms);
        step_deinit(&s);
        spec.limits = cfg->run_default;

        /* Output. */
        char *const yes_argv[] = {"/usr/bin/yes", NULL};
        spec.argv = yes_argv;
        spec.limits.output_kb = 4;
        run_step(l, s0, box0, &spec, &s, "output");
        CHECK(s.result.verdict == VERDICT_OUTPUT_LIMIT_EXCEEDED, "output: %s", verdict_to_string(s.result.verdict));
        CHECK(s.result.out.truncated && s.result.out.len <= 4096 && s.result.out.len > 0, "output: %zu bytes, %s",
                s.result.out.len, s.result.out.truncated ? "truncated" : "complete");
        CHECK(s.result.out.data && s.result.out.len >= 2 && memcmp(s.result.out.data, "y\n", 2) == 0,
                "output: content");
        CHECK(s.out_len == s.result.out.len && s.out_len <= 4096, "output: the callback got %zu bytes", s.out_len);
        step_deinit(&s);
        spec.limits = cfg->run_default;

        /* seccomp: a new namespace from inside is a security violation, named. */
        if (access("/usr/bin/unshare", X_OK) == 0) {
                char *const unshare_argv[] = {"/usr/bin/unshare", "-U", "/usr/bin/true", NULL};
                spec.argv = unshare_argv;
                run_step(l, s0, box0, &spec, &s, "seccomp");
                CHECK(s.result.verdict == VERDICT_SECURITY_VIOLATION, "seccomp: %s",
                        verdict_to_string(s.result.verdict));
                CHECK(strstr(s.result.message, "unshare"), "seccomp: message \"%s\"", s.result.message);
                step_deinit(&s);
        } else
                printf("  /usr/bin/unshare missing: seccomp case skipped\n");

        /* stdin from a memfd. */
        _cleanup_close_ int mfd = memfd_create("stdin", MFD_CLOEXEC);
        CHECK(mfd >= 0 && write(mfd, "hello", 5) == 5 && lseek(mfd, 0, SEEK_SET) == 0, "memfd: %m");
        char *const cat_argv[] = {"/usr/bin/cat", NULL};
        spec.argv = cat_argv;
        spec.stdin_fd = mfd;
        run_step(l, s0, box0, &spec, &s, "stdin");
        CHECK(s.result.verdict == VERDICT_ACCEPTED, "stdin: %s", verdict_to_string(s.result.verdict));
        CHECK(buf_is(s.result.out.data, s.result.out.len, "hello"), "stdin: stdout \"%.*s\"", (int)s.result.out.len,
                s.result.out.data ? s.result.out.data : "");
        step_deinit(&s);
        spec.stdin_fd = -1;

        /* Two slots at once. */
        char *const both_argv[] = {"/usr/bin/sh", "-c", "sleep 0.3; echo done", NULL};
        spec.argv = both_argv;
        Step a, b;
        if (step_start(l, s0, box0, &spec, &a, "slot0") == 0 &&
                step_start(l, s1, box1, &spec, &b, "slot1") == 0) {
                CHECK(launcher_running(l) == 2, "%u running", launcher_running(l));
                /* A slot runs one step at a time. */
                Step c = {};
                CHECK(launcher_spawn(l, s0, box0, &spec, &c.result, &callbacks, &c) == -EINVAL,
                        "a second step in a busy slot");
                Step *both[] = {&a, &b};
                wait_steps(l, both, 2);
                CHECK(a.result.verdict == VERDICT_ACCEPTED && b.result.verdict == VERDICT_ACCEPTED, "both: %s %s",
                        verdict_to_string(a.result.verdict), verdict_to_string(b.result.verdict));
                CHECK(buf_is(a.out, a.out_len, "done\n") && buf_is(b.out, b.out_len, "done\n"), "both: output");
                /* Together, not one after the other. */
                uint64_t total = MAX(a.elapsed_ms, b.elapsed_ms);
                CHECK(total < 550, "both ended after %llu ms", (unsigned long long)total);
                step_deinit(&a);
                step_deinit(&b);
        }
        CHECK(launcher_running(l) == 0, "%u running", launcher_running(l));

        /* Cancel. */
        spec.argv = sleep_argv;
        if (step_start(l, s1, box1, &spec, &s, "cancel") == 0) {
                launcher_dispatch(l, 50);
                CHECK(launcher_cancel(l, s1) == 0, "launcher_cancel");
                Step *one[] = {&s};
                wait_steps(l, one, 1);
                CHECK(s.result.verdict == VERDICT_INTERNAL_ERROR && strcmp(s.result.message, "cancelled") == 0,
                        "cancel: %s \"%s\"", verdict_to_string(s.result.verdict), s.result.message);
                CHECK(s.elapsed_ms < 1000, "cancel: ended after %llu ms", (unsigned long long)s.elapsed_ms);
                step_deinit(&s);
        }

}

/* Nothing outlives the launcher: leaves a step with a background child running in slot s0 and frees
 * the boxes and the launcher. */
static void free_while_running(Launcher *l, StepSpec *spec, unsigned s0, Box *box0, Box *box1, uid_t uid_lo,
        uid_t uid_hi)
{
        char *const linger_argv[] = {"/usr/bin/sh", "-c", "sleep 30 & sleep 30; echo", NULL};
        spec->argv = linger_argv;
        pid_t pids[16];
        int pidfds[16];
        size_t n_pids = 0;
        Step linger;
        bool started = step_start(l, s0, box0, spec, &linger, "linger") == 0;
        if (started) {
                /* init, sh, and two sleeps. */
                uint64_t deadline = now_ms() + 3000;
                while ((n_pids = find_sandbox_pids(uid_lo, uid_hi, pids, ELEMENTSOF(pids))) < 4 && now_ms() < deadline)
                        launcher_dispatch(l, 20);
                CHECK(n_pids >= 4, "found %zu sandbox processes", n_pids);
        }
        for (size_t i = 0; i < n_pids; i++)
                pidfds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);

        box_free(box0);
        box_free(box1);
        launcher_free(l);
        if (started) {
                CHECK(linger.done_calls == 1 && linger.result.verdict == VERDICT_INTERNAL_ERROR,
                        "linger: on_done ran %u times, %s \"%s\"", linger.done_calls,
                        verdict_to_string(linger.result.verdict), linger.result.message);
                step_deinit(&linger);
        }
        for (size_t i = 0; i < n_pids; i++) {
                struct pollfd pfd = {.fd = pidfds[i], .events = POLLIN};
                CHECK(pidfds[i] >= 0 && poll(&pfd, 1, 2000) == 1, "pid %d outlived launcher_free", (int)pids[i]);
                /* Known: launcher_free() kills a running sandbox but does not reap its init, which stays a
                 * zombie child of the launcher's process. Dead, so not counted as a failure here; reaped
                 * by us so it does not linger. */
                CHECK(proc_state(pids[i]) != 'Z', "sandbox init %d left a zombie by launcher_free", (int)pids[i]);
                if (proc_state(pids[i]) == 'Z') {
                        siginfo_t si = {};
                        waitid((idtype_t)P_PIDFD, (id_t)pidfds[i], &si, WEXITED | WNOHANG);
                }
                safe_close(pidfds[i]);
        }
        /* And no descendant of ours with a slot uid remains at all. */
        pid_t left[16];
        size_t n_left = find_sandbox_pids(uid_lo, uid_hi, left, ELEMENTSOF(left));
        CHECK(n_left == 0, "%zu sandbox processes left, first %d", n_left, n_left ? (int)left[0] : 0);
}

/* Counts the mappings in /proc/<pid>/maps whose path contains `what`. */
static int count_mappings(pid_t pid, const char *what)
{
        char path[64], line[4096];
        snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        int n = 0;
        while (f && fgets(line, sizeof line, f))
                n += strstr(line, what) != NULL;
        return n;
}

/* spawn_trim_fork_mappings(): a child (cloned without fork(3), as the launcher does) no longer maps
 * the libraries, but still maps libc; the parent keeps them all. In a child process of the test,
 * since it changes what every later fork of the caller gets. */
static void test_trim_fork_mappings(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                pid_t me = getpid();
                CHECK(count_mappings(me, "libjansson") > 0, "the test links libjansson: it must be mapped");
                int n = spawn_trim_fork_mappings();
                CHECK(n > 0, "spawn_trim_fork_mappings: %d", n);
                int sync[2];
                if (pipe(sync) < 0)
                        _exit(1);
                pid_t c = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
                if (c == 0) {
                        char b;
                        close(sync[1]);
                        _exit(read(sync[0], &b, 1) < 0); /* waits until the parent has looked */
                }
                CHECK(count_mappings(c, "libjansson") == 0 && count_mappings(c, "libseccomp") == 0,
                        "the child still maps libjansson (%d) or libseccomp (%d)", count_mappings(c, "libjansson"),
                        count_mappings(c, "libseccomp"));
                CHECK(count_mappings(c, "libc.so") > 0, "the child must keep libc");
                CHECK(count_mappings(me, "libjansson") > 0, "the parent must keep its libraries");
                close(sync[1]);
                waitpid(c, NULL, 0);
                _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the trim test's process ended with %#x", st);
}

/* A launcher with many slots (a big host's default: one per CPU) starts: every slot's /etc fits
 * in the /etc tmpfs. In a child process: a launcher takes this process's mount namespace. */
static void test_many_slots(const Config *cfg, const char *const *ro_mounts)
{
        pid_t pid = fork();
        if (pid == 0) {
                char msg[1024] = "";
                Launcher *l = NULL;
                LauncherOptions lo = {.config = cfg, .slots = 96, .ro_mounts = ro_mounts};
                int r = launcher_new(&lo, &l, msg, sizeof msg);
                CHECK(r == 0, "launcher_new with 96 slots: %s (%s)", strerror(-r), msg);
                launcher_free(l);
                _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the many-slots test's process ended with %#x", st);
}

int main(void)
{
        /* Line buffered: forked children must not inherit unwritten output. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (geteuid() != 0) {
                printf("skipped: the launcher needs root\n");
                return 77;
        }

        char msg[1024] = "";
        _cleanup_(config_deinit) Config cfg = CONFIG_NULL;
        if (config_load(&cfg, msg, sizeof msg) < 0) {
                printf("config: %s\n", msg);
                return 1;
        }
        const char *dir = getenv("SENTINEL_POLICY_DIR") ? cfg.policy_dir : SENTINEL_SOURCE_POLICY_DIR;
        _cleanup_(policy_freep) Policy *policy = NULL;
        if (policy_load(dir, &policy, msg, sizeof msg) < 0) {
                printf("policy: %s\n", msg);
                return 1;
        }
        test_trim_fork_mappings();
        test_many_slots(&cfg, policy_ro_mounts(policy));

        const SeccompProgram *run_profile = policy_profile(policy, "run");
        CHECK(run_profile != NULL, "no \"run\" seccomp profile in %s", dir);

        /* The launcher enters a private mount namespace: this process's, which nothing else shares. */
        Launcher *l = NULL;
        LauncherOptions lo = {.config = &cfg, .slots = 2, .ro_mounts = policy_ro_mounts(policy)};
        int r = launcher_new(&lo, &l, msg, sizeof msg);
        if (r == -EPERM || r == -ENOENT || r == -EOPNOTSUPP || r == -ENODEV) {
                printf("skipped: cannot start a launcher here: %s\n", msg);
                return 77;
        }
        CHECK(r == 0, "launcher_new: %s (%s)", strerror(-r), msg);
        if (r < 0)
                goto out;
        printf("launcher: %s\n", launcher_describe(l));
        CHECK(launcher_n_slots(l) == 2, "%u slots", launcher_n_slots(l));

        unsigned uid_lo = 0, uid_hi = 0;
        const char *u = strstr(launcher_describe(l), "uids ");
        CHECK(u && sscanf(u, "uids %u-%u", &uid_lo, &uid_hi) == 2 && uid_lo >= cfg.uid_base &&
                        uid_hi < cfg.uid_base + 4096 && uid_lo < uid_hi,
                "uids in \"%s\"", launcher_describe(l));

        /* Slots: two, then none. */
        int s0 = launcher_acquire_slot(l), s1 = launcher_acquire_slot(l);
        CHECK(s0 >= 0 && s1 >= 0 && s0 != s1, "slots %d %d", s0, s1);
        CHECK(launcher_acquire_slot(l) == -EBUSY, "a third slot");
        if (s0 >= 0 && s1 >= 0) {
                launcher_release_slot(l, (unsigned)s1);
                CHECK(launcher_acquire_slot(l) == s1, "a released slot is taken again");
                CHECK(launcher_acquire_slot(l) == -EBUSY, "a third slot after release");
                CHECK(launcher_cancel(l, (unsigned)s0) == -ESRCH, "cancel of an idle slot");

                Box *box0 = NULL, *box1 = NULL;
                CHECK(launcher_new_box(l, (unsigned)s0, &box0) == 0 && box0, "box of slot 0");
                CHECK(launcher_new_box(l, (unsigned)s1, &box1) == 0 && box1, "box of slot 1");
                if (box0 && box1) {
                        cases(l, &cfg, run_profile, (unsigned)s0, (unsigned)s1, box0, box1);
                        StepSpec spec = {.envp = envp, .limits = cfg.run_default, .seccomp = run_profile,
                                .stdin_fd = -1};
                        free_while_running(l, &spec, (unsigned)s0, box0, box1, uid_lo, uid_hi);
                        l = NULL;
                } else {
                        box_free(box0);
                        box_free(box1);
                }
        }
        launcher_free(l);

out:
        return test_summary();
}
