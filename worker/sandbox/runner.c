/* SPDX-License-Identifier: Apache-2.0 */
/* A job: source → (compile) → run → verdict. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"

struct Job {
        Launcher *l;
        unsigned slot;
        Box *box;
        int stdin_fd;
        const Language *language;
        const SeccompProgram *run_profile, *compile_profile;
        Limits limits, compile_limits;
        char **run_argv;
        char **envp;
        JobCallbacks cb;
        void *userdata;
        RunResult result;
};

static char **strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
        return NULL;
}

static size_t strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* The environment of both steps: fixed, plus the language's own. Nothing of the host's. */
static char **job_environment(const Language *lang)
{
        static const char *const base[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", "TMPDIR=/tmp",
                "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "USER=sandbox"};
        size_t n = ELEMENTSOF(base) + strv_length(lang->env);
        char **env = calloc(n + 1, sizeof *env);
        if (!env)
                return NULL;
        size_t i = 0;
        for (size_t k = 0; k < ELEMENTSOF(base); k++)
                if (!(env[i++] = strdup(base[k])))
                        return strv_free(env);
        for (char **e = lang->env; e && *e; e++)
                if (!(env[i++] = strdup(*e)))
                        return strv_free(env);
        return env;
}

static char **job_run_argv(const Language *lang, char *const *args)
{
        size_t a = strv_length(lang->run_argv), b = strv_length(args);
        char **argv = calloc(a + b + 1, sizeof *argv);
        if (!argv)
                return NULL;
        for (size_t i = 0; i < a; i++)
                if (!(argv[i] = strdup(lang->run_argv[i])))
                        return strv_free(argv);
        for (size_t i = 0; i < b; i++)
                if (!(argv[a + i] = strdup(args[i])))
                        return strv_free(argv);
        return argv;
}

static void job_free(Job *j)
{
        if (!j)
                return;
        box_free(j->box);
        if (j->l)
                launcher_release_slot(j->l, j->slot);
        safe_close(j->stdin_fd);
        strv_free(j->run_argv);
        strv_free(j->envp);
        run_result_deinit(&j->result);
        free(j);
}

static void job_done(Job *j)
{
        if (j->cb.on_done)
                j->cb.on_done(j->userdata, &j->result);
        job_free(j);
}

static void job_on_output(void *userdata, int stream, const char *data, size_t len)
{
        Job *j = userdata;
        if (j->cb.on_output)
                j->cb.on_output(j->userdata, stream, data, len);
}

static void job_on_run_done(void *userdata, StepResult *r)
{
        Job *j = userdata;
        j->result.status = r->verdict;
        snprintf(j->result.message, sizeof j->result.message, "%s", r->message);
        job_done(j);
}

static int job_spawn_run(Job *j)
{
        if (j->cb.on_phase)
                j->cb.on_phase(j->userdata, JOB_RUNNING);
        StepSpec spec = {
                .argv = j->run_argv,
                .envp = j->envp,
                .ro_mounts = (const char *const *)j->language->ro_mounts,
                .limits = j->limits,
                .seccomp = j->run_profile,
                .stdin_fd = j->stdin_fd,
        };
        StepCallbacks cb = {.on_output = job_on_output, .on_done = job_on_run_done};
        return launcher_spawn(j->l, j->slot, j->box, &spec, &j->result.run, &cb, j);
}

static void job_on_compile_done(void *userdata, StepResult *r)
{
        Job *j = userdata;
        switch (r->verdict) {
        case VERDICT_ACCEPTED: {
                int e = job_spawn_run(j);
                if (e < 0) {
                        j->result.status = VERDICT_INTERNAL_ERROR;
                        snprintf(j->result.message, sizeof j->result.message, "cannot start the run: %s",
                                strerror(-e));
                        job_done(j);
                }
                return;
        }
        case VERDICT_SECURITY_VIOLATION:
        case VERDICT_INTERNAL_ERROR:
                j->result.status = r->verdict;
                snprintf(j->result.message, sizeof j->result.message, "compile step: %s", r->message);
                break;
        case VERDICT_TIME_LIMIT_EXCEEDED:
        case VERDICT_MEMORY_LIMIT_EXCEEDED:
        case VERDICT_OUTPUT_LIMIT_EXCEEDED:
                /* The program never ran: the compiler's limits are the operator's, not the user's. */
                j->result.status = VERDICT_COMPILE_ERROR;
                snprintf(j->result.message, sizeof j->result.message, "compilation stopped: %s", r->message);
                break;
        default:
                j->result.status = VERDICT_COMPILE_ERROR;
                snprintf(j->result.message, sizeof j->result.message, "compilation failed: %s", r->message);
                break;
        }
        job_done(j);
}

static int make_stdin(const char *data, size_t len)
{
        if (!data || len == 0)
                return -1; /* /dev/null */
        /* A sealed memfd: no pipe to fill, no deadlock if the program never reads. */
        _cleanup_close_ int fd = memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, data + off, len - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (size_t)n;
        }
        if (lseek(fd, 0, SEEK_SET) < 0 ||
                fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int job_start(Launcher *l, const JobSpec *spec, const JobCallbacks *cb, void *userdata)
{
        const Language *lang = spec->language;
        Job *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->stdin_fd = -1;
        j->language = lang;
        j->cb = *cb;
        j->userdata = userdata;
        j->limits = spec->limits;
        j->compile_limits = spec->compile_limits;
        run_result_init(&j->result);
        j->result.has_compile = lang->compile_argv != NULL;

        /* The runtime's own needs (a JVM's threads) are a floor under the limits. */
        j->limits.pids = MAX(j->limits.pids, lang->min_pids);
        j->limits.memory_kb = MAX(j->limits.memory_kb, lang->min_memory_kb);
        j->compile_limits.pids = MAX(j->compile_limits.pids, lang->min_pids);
        j->compile_limits.memory_kb = MAX(j->compile_limits.memory_kb, lang->min_memory_kb);

        j->run_profile = policy_profile(spec->policy, lang->run_profile);
        j->compile_profile = lang->compile_argv ? policy_profile(spec->policy, lang->compile_profile) : NULL;
        if (!j->run_profile || (lang->compile_argv && !j->compile_profile)) {
                job_free(j);
                return -ENOENT;
        }

        int r = launcher_acquire_slot(l);
        if (r < 0) {
                job_free(j);
                return r;
        }
        j->l = l;
        j->slot = (unsigned)r;

        j->run_argv = job_run_argv(lang, spec->args);
        j->envp = job_environment(lang);
        if (!j->run_argv || !j->envp) {
                job_free(j);
                return -ENOMEM;
        }
        r = make_stdin(spec->stdin_data, spec->stdin_len);
        if (r < -1) {
                job_free(j);
                return r;
        }
        j->stdin_fd = r;

        r = launcher_new_box(l, j->slot, &j->box);
        if (r == 0)
                r = box_write_file(j->box, lang->source_file, spec->source, spec->source_len, 0644);
        if (r < 0) {
                job_free(j);
                return r;
        }

        if (!lang->compile_argv) {
                r = job_spawn_run(j);
        } else {
                if (cb->on_phase)
                        cb->on_phase(userdata, JOB_COMPILING);
                StepSpec cs = {
                        .argv = lang->compile_argv,
                        .envp = j->envp,
                        .ro_mounts = (const char *const *)lang->ro_mounts,
                        .limits = j->compile_limits,
                        .seccomp = j->compile_profile,
                        .stdin_fd = -1,
                };
                StepCallbacks scb = {.on_done = job_on_compile_done};
                r = launcher_spawn(l, j->slot, j->box, &cs, &j->result.compile, &scb, j);
        }
        if (r < 0) {
                job_free(j);
                return r;
        }
        return 0;
}
