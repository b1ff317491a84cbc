/* SPDX-License-Identifier: Apache-2.0 */
/* Spawn cost from a long-lived process: a sandboxed /usr/bin/true through the launcher against a
 * bare fork+exec+wait of the same binary, interleaved A/B so both see the same machine.
 *
 * Usage: bench-spawn [ROUNDS] [BATCH] [PROGRAM ARGS...]
 *   defaults: 30 rounds of 20 spawns per side, PROGRAM /usr/bin/true
 * Prints the median per-spawn wall time of each variant, its extra over bare, and the CPU per
 * spawn (user + system of the launcher and everything it reaped) of each side.
 * BENCH_SANDBOX_ONLY=1 runs only the first variant's sandboxed side (to profile it); BENCH_TRIM=0
 * turns off spawn_trim_fork_mappings(), which the launcher runs as in the worker's executor. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "launcher.h"
#include "policy.h"
#include "sentinel-config.h"

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *const default_argv[] = {"/usr/bin/true", NULL};
static char *const *true_argv = default_argv;

/* CPU of this process and its reaped children so far, in ms. */
static double cpu_ms(void)
{
        struct rusage s, c;
        getrusage(RUSAGE_SELF, &s);
        getrusage(RUSAGE_CHILDREN, &c);
        double us = 0;
        const struct rusage *u[] = {&s, &c};
        for (int i = 0; i < 2; i++)
                us += (double)u[i]->ru_utime.tv_sec * 1e6 + (double)u[i]->ru_utime.tv_usec
                        + (double)u[i]->ru_stime.tv_sec * 1e6 + (double)u[i]->ru_stime.tv_usec;
        return us / 1e3;
}
static char *const env[] = {"PATH=/usr/bin:/bin", NULL};

static int bare_once(void)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDOUT_FILENO); /* as the sandbox's output goes to a pipe */
                execve(true_argv[0], (char *const *)true_argv, env);
                _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

typedef struct Done {
        bool done;
        Verdict verdict;
        char message[320];
} Done;

static void on_done(void *userdata, StepResult *r)
{
        Done *d = userdata;
        d->done = true;
        d->verdict = r->verdict;
        memcpy(d->message, r->message, sizeof d->message);
}

static int sandbox_once(Launcher *l, Box *box, const StepSpec *spec)
{
        Done d = {};
        StepResult result;
        StepCallbacks cb = {.on_done = on_done};
        int r = launcher_spawn(l, 0, box, spec, &result, &cb, &d);
        if (r < 0)
                return r;
        while (!d.done)
                if ((r = launcher_dispatch(l, -1)) < 0)
                        return r;
        step_result_deinit(&result);
        if (d.verdict != VERDICT_ACCEPTED) {
                fprintf(stderr, "sandboxed run: %s %s\n", verdict_to_string(d.verdict), d.message);
                return -EIO;
        }
        return 0;
}

typedef struct Variant {
        const char *name;
        bool fresh_netns;
        bool seccomp;
} Variant;

int main(int argc, char **argv)
{
        int rounds = argc > 1 ? atoi(argv[1]) : 30;
        int batch = argc > 2 ? atoi(argv[2]) : 20;
        if (argc > 3)
                true_argv = argv + 3;
        /* For profiling the sandbox alone: BENCH_SANDBOX_ONLY=1 skips the bare side and the variants. */
        bool sandbox_only = getenv("BENCH_SANDBOX_ONLY") != NULL;
        /* As the worker's executor does (BENCH_TRIM=0: copy every library into each sandbox). */
        bool trim = !getenv("BENCH_TRIM") || strcmp(getenv("BENCH_TRIM"), "0") != 0;
        char msg[1024];
        _cleanup_(config_deinit) Config cfg = CONFIG_NULL;
        if (config_load(&cfg, msg, sizeof msg) < 0) {
                fprintf(stderr, "config: %s\n", msg);
                return 1;
        }
        const char *dir = getenv("SENTINEL_POLICY_DIR") ? cfg.policy_dir : SENTINEL_SOURCE_POLICY_DIR;
        Policy *policy = NULL;
        if (policy_load(dir, &policy, msg, sizeof msg) < 0) {
                fprintf(stderr, "policy: %s\n", msg);
                return 1;
        }

        const Variant variants[] = {
                {"sandbox (pooled netns, seccomp, Landlock, cgroup)", false, true},
                {"sandbox without seccomp", false, false},
                {"sandbox with a fresh netns per run", true, true},
        };
        printf("| variant | median per spawn (ms) | bare fork+exec (ms) | extra (ms) | ratio | CPU per spawn, sandbox / bare (ms) |\n");
        printf("|---|---|---|---|---|---|\n");
        for (size_t v = 0; v < (sandbox_only ? 1 : ELEMENTSOF(variants)); v++) {
                fflush(stdout);
                /* Each variant gets its own launcher, in a child, so mount namespaces do not stack. */
                pid_t pid = fork();
                if (pid == 0) {
                        Launcher *l = NULL;
                        LauncherOptions lo = {.config = &cfg, .slots = 1, .fresh_netns = variants[v].fresh_netns,
                                .trim_fork_mappings = trim,
                                .ro_mounts = policy_ro_mounts(policy)};
                        if (launcher_new(&lo, &l, msg, sizeof msg) < 0) {
                                fprintf(stderr, "launcher: %s\n", msg);
                                _exit(1);
                        }
                        int slot = launcher_acquire_slot(l);
                        Box *box = NULL;
                        if (slot < 0 || launcher_new_box(l, (unsigned)slot, &box) < 0)
                                _exit(1);
                        StepSpec spec = {
                                .argv = (char **)true_argv,
                                .envp = env,
                                .limits = cfg.run_default,
                                .seccomp = variants[v].seccomp ? policy_profile(policy, "run") : NULL,
                                .stdin_fd = -1,
                        };
                        double *a = calloc((size_t)rounds, sizeof *a), *b = calloc((size_t)rounds, sizeof *b);
                        double *ca = calloc((size_t)rounds, sizeof *ca), *cb = calloc((size_t)rounds, sizeof *cb);
                        /* warm up both paths */
                        for (int i = 0; i < 5; i++)
                                if (sandbox_once(l, box, &spec) < 0 || (!sandbox_only && bare_once() < 0))
                                        _exit(1);
                        for (int r = 0; r < rounds; r++) {
                                uint64_t t0 = now_ns();
                                double c0 = cpu_ms();
                                for (int i = 0; i < batch; i++)
                                        if (sandbox_once(l, box, &spec) < 0)
                                                _exit(1);
                                uint64_t t1 = now_ns();
                                double c1 = cpu_ms();
                                for (int i = 0; i < batch && !sandbox_only; i++)
                                        if (bare_once() < 0)
                                                _exit(1);
                                uint64_t t2 = now_ns();
                                double c2 = cpu_ms();
                                a[r] = (double)(t1 - t0) / 1e6 / batch;
                                b[r] = (double)(t2 - t1) / 1e6 / batch;
                                ca[r] = (c1 - c0) / batch;
                                cb[r] = (c2 - c1) / batch;
                        }
                        double ma = median(a, (size_t)rounds), mb = median(b, (size_t)rounds);
                        printf("| %s | %.3f | %.3f | %+.3f | %.2f | %.3f / %.3f |\n", variants[v].name, ma, mb, ma - mb,
                                ma / mb, median(ca, (size_t)rounds), median(cb, (size_t)rounds));
                        fflush(stdout);
                        box_free(box);
                        launcher_release_slot(l, (unsigned)slot);
                        launcher_free(l);
                        _exit(0);
                }
                int st;
                waitpid(pid, &st, 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        return 1;
        }
        policy_free(policy);
        return 0;
}
