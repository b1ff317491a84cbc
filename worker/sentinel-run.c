/* SPDX-License-Identifier: Apache-2.0 */
/* sentinel-run: compile and run one program in the sandbox, print its output and verdict. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "json-util.h"
#include "launcher.h"
#include "log.h"
#include "policy.h"
#include "runner.h"
#include "sentinel-config.h"

#define EXIT_USAGE 2
#define EXIT_INTERNAL 1

typedef struct Args {
        const char *lang;
        const char *file;
        const char *stdin_path;
        double time_s, wall_s, memory_mb, pids, output_kb;
        bool json;
        bool list_languages;
        bool fresh_netns;
} Args;

typedef struct Run {
        bool json;
        bool done;
        RunResult *copy_target;
        int exit_code;
        char summary[512];
        char *json_text;
} Run;

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: sentinel-run --lang LANG [--stdin PATH] [--time SEC] [--wall-time SEC] [--memory MB]\n"
                "                    [--pids N] [--output KB] [--json] FILE\n"
                "       sentinel-run --list-languages\n"
                "       sentinel-run --config-reference\n\n"
                "Compiles FILE when LANG needs it, runs it in the sandbox, and reports the verdict.\n"
                "Without --json the program's stdout and stderr pass through and one verdict line goes\n"
                "to stderr. Exit status: 0 when a verdict was reached, 2 for bad usage, 1 otherwise.\n");
}

_printf_(1, 2) static int usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("sentinel-run: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\nTry 'sentinel-run --help'.\n", stderr);
        va_end(ap);
        return EXIT_USAGE;
}

static int parse_number(const char *opt, const char *s, double *ret)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0)
                return usage_error("%s \"%s\": expected a positive number", opt, s);
        *ret = v;
        return 0;
}

/* Reads a whole file of at most max bytes. */
static int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        size_t alloc = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == alloc) {
                        if (alloc > max)
                                return -EFBIG;
                        char *p = realloc(buf, alloc * 2);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc *= 2;
                }
                ssize_t n = read(fd, buf + len, alloc - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max)
                return -EFBIG;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int parse_args(int argc, char **argv, Args *a)
{
        enum { OPT_TIME = 256, OPT_WALL, OPT_MEMORY, OPT_PIDS, OPT_OUTPUT, OPT_STDIN, OPT_JSON, OPT_LIST,
                OPT_CONFIG, OPT_VERSION, OPT_FRESH_NETNS };
        static const struct option options[] = {
                {"lang", required_argument, NULL, 'l'},
                {"stdin", required_argument, NULL, OPT_STDIN},
                {"time", required_argument, NULL, OPT_TIME},
                {"wall-time", required_argument, NULL, OPT_WALL},
                {"memory", required_argument, NULL, OPT_MEMORY},
                {"pids", required_argument, NULL, OPT_PIDS},
                {"output", required_argument, NULL, OPT_OUTPUT},
                {"json", no_argument, NULL, OPT_JSON},
                {"list-languages", no_argument, NULL, OPT_LIST},
                {"config-reference", no_argument, NULL, OPT_CONFIG},
                {"fresh-netns", no_argument, NULL, OPT_FRESH_NETNS},
                {"version", no_argument, NULL, OPT_VERSION},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c, r;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+l:h", options, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        a->lang = optarg;
                        break;
                case OPT_STDIN:
                        a->stdin_path = optarg;
                        break;
                case OPT_TIME:
                        if ((r = parse_number("--time", optarg, &a->time_s)))
                                return r;
                        break;
                case OPT_WALL:
                        if ((r = parse_number("--wall-time", optarg, &a->wall_s)))
                                return r;
                        break;
                case OPT_MEMORY:
                        if ((r = parse_number("--memory", optarg, &a->memory_mb)))
                                return r;
                        break;
                case OPT_PIDS:
                        if ((r = parse_number("--pids", optarg, &a->pids)))
                                return r;
                        if (a->pids != floor(a->pids))
                                return usage_error("--pids \"%s\": expected a whole number", optarg);
                        break;
                case OPT_OUTPUT:
                        if ((r = parse_number("--output", optarg, &a->output_kb)))
                                return r;
                        break;
                case OPT_JSON:
                        a->json = true;
                        break;
                case OPT_LIST:
                        a->list_languages = true;
                        break;
                case OPT_FRESH_NETNS:
                        a->fresh_netns = true;
                        break;
                case OPT_CONFIG:
                        config_print_reference();
                        exit(EXIT_SUCCESS);
                case OPT_VERSION:
                        printf("sentinel-run %s\n", SENTINEL_VERSION);
                        exit(EXIT_SUCCESS);
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case '?':
                        if (optopt)
                                return usage_error("option %s needs a value or is unknown", argv[optind - 1]);
                        return usage_error("unknown option %s", argv[optind - 1]);
                default:
                        return usage_error("unexpected option");
                }
        }
        if (a->list_languages)
                return 0;
        if (!a->lang)
                return usage_error("--lang LANG is required");
        if (optind >= argc)
                return usage_error("FILE is required");
        if (optind + 1 < argc)
                return usage_error("one FILE only (got \"%s\" too)", argv[optind + 1]);
        a->file = argv[optind];
        return 0;
}

/* Applies one option to a limit, checking the operator's maximum. Returns 0 or EXIT_USAGE. */
static int apply_limit(const char *opt, double value, double scale, uint64_t max, const char *unit,
        const char *var, uint64_t *field)
{
        if (value <= 0)
                return 0;
        double v = ceil(value * scale);
        if (v > (double)max)
                return usage_error("%s %g: above the operator's maximum of %g %s (%s)", opt, value,
                        (double)max / scale, unit, var);
        *field = (uint64_t)v;
        if (*field == 0)
                *field = 1;
        return 0;
}

static void on_output(void *userdata, int stream, const char *data, size_t len)
{
        Run *run = userdata;
        if (run->json)
                return;
        /* Pass through as it arrives. */
        FILE *f = stream == 1 ? stdout : stderr;
        fwrite(data, 1, len, f);
        fflush(f);
}

static void on_done(void *userdata, RunResult *r)
{
        Run *run = userdata;
        run->done = true;
        if (run->json) {
                json_t *j = run_result_to_json(r);
                run->json_text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10)) : NULL;
                json_decref(j);
                if (!run->json_text)
                        run->exit_code = EXIT_INTERNAL;
        } else {
                if (r->has_compile && r->status == VERDICT_COMPILE_ERROR) {
                        if (r->compile.out.len)
                                fwrite(r->compile.out.data, 1, r->compile.out.len, stderr);
                        if (r->compile.err.len)
                                fwrite(r->compile.err.data, 1, r->compile.err.len, stderr);
                }
                run_result_summary(r, run->summary, sizeof run->summary);
        }
}

static int list_languages(const Policy *policy)
{
        for (size_t i = 0; i < policy->languages->n_languages; i++) {
                const Language *l = &policy->languages->languages[i];
                printf("%-12s %-16s %-8s %s\n", l->id, l->name, l->version, l->compile_argv ? "compiled" : "interpreted");
        }
        return EXIT_SUCCESS;
}

static const char *policy_dir(const Config *cfg)
{
        /* The installed policy, or the source tree's when running from a build directory. */
        if (getenv("SENTINEL_POLICY_DIR") || access(cfg->policy_dir, F_OK) == 0)
                return cfg->policy_dir;
        return SENTINEL_SOURCE_POLICY_DIR;
}

static int run(int argc, char **argv)
{
        Args a = {};
        int r = parse_args(argc, argv, &a);
        if (r)
                return r;

        char msg[1024] = "";
        _cleanup_(config_deinit) Config cfg = CONFIG_NULL;
        if (config_load(&cfg, msg, sizeof msg) < 0) {
                fprintf(stderr, "sentinel-run: configuration: %s\n", msg);
                return EXIT_USAGE;
        }
        LogLevel level;
        if (log_level_from_string(cfg.log_level, &level) == 0)
                log_set_level(level);

        _cleanup_(policy_freep) Policy *policy = NULL;
        r = policy_load(policy_dir(&cfg), &policy, msg, sizeof msg);
        if (r < 0) {
                log_error("cannot load the sandbox policy: %s", msg);
                return EXIT_INTERNAL;
        }
        if (a.list_languages)
                return list_languages(policy);

        const Language *lang = language_registry_find(policy->languages, a.lang);
        if (!lang) {
                fprintf(stderr, "sentinel-run: unknown language \"%s\"; available:", a.lang);
                for (size_t i = 0; i < policy->languages->n_languages; i++)
                        fprintf(stderr, " %s", policy->languages->languages[i].id);
                fputs("\n", stderr);
                return EXIT_USAGE;
        }

        /* Only the profiles this language uses are compiled (about 1 ms each). */
        if (!policy_profile(policy, lang->run_profile) ||
                (lang->compile_argv && !policy_profile(policy, lang->compile_profile))) {
                log_error("cannot load the sandbox policy: %s", policy->error);
                return EXIT_INTERNAL;
        }

        Limits limits = cfg.run_default;
        if ((r = apply_limit("--time", a.time_s, 1000, cfg.run_max.cpu_ms, "s", "SENTINEL_MAX_CPU_TIME_MS",
                     &limits.cpu_ms)) ||
                (r = apply_limit("--wall-time", a.wall_s, 1000, cfg.run_max.wall_ms, "s",
                         "SENTINEL_MAX_WALL_TIME_MS", &limits.wall_ms)) ||
                (r = apply_limit("--memory", a.memory_mb, 1024, cfg.run_max.memory_kb, "MB",
                         "SENTINEL_MAX_MEMORY_KB", &limits.memory_kb)) ||
                (r = apply_limit("--pids", a.pids, 1, cfg.run_max.pids, "", "SENTINEL_MAX_PIDS", &limits.pids)) ||
                (r = apply_limit("--output", a.output_kb, 1, cfg.run_max.output_kb, "KB",
                         "SENTINEL_MAX_OUTPUT_KB", &limits.output_kb)))
                return r;
        if (a.time_s > 0 && a.wall_s <= 0)
                limits.wall_ms = MIN(MAX(limits.wall_ms, limits.cpu_ms * 2), cfg.run_max.wall_ms);

        _cleanup_free_ char *source = NULL, *input = NULL;
        size_t source_len = 0, input_len = 0;
        r = read_file_bounded(a.file, cfg.max_source_kb * 1024, &source, &source_len);
        if (r == -EFBIG)
                return usage_error("%s: larger than %" PRIu64 " KB (SENTINEL_MAX_SOURCE_KB)", a.file, cfg.max_source_kb);
        if (r < 0)
                return usage_error("%s: %s", a.file, strerror(-r));
        if (a.stdin_path) {
                r = read_file_bounded(a.stdin_path, cfg.max_stdin_kb * 1024, &input, &input_len);
                if (r == -EFBIG)
                        return usage_error("--stdin %s: larger than %" PRIu64 " KB (SENTINEL_MAX_STDIN_KB)",
                                a.stdin_path, cfg.max_stdin_kb);
                if (r < 0)
                        return usage_error("--stdin %s: %s", a.stdin_path, strerror(-r));
        }

        /* Signals become events; the sandbox is stopped cleanly on ^C. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        signal(SIGPIPE, SIG_IGN);

        _cleanup_(launcher_freep) Launcher *l = NULL;
        LauncherOptions lo = {.config = &cfg, .slots = 1, .fresh_netns = a.fresh_netns,
                .ro_mounts = policy_ro_mounts(policy)};
        r = launcher_new(&lo, &l, msg, sizeof msg);
        if (r < 0) {
                log_error("cannot start the sandbox launcher: %s", msg);
                return EXIT_INTERNAL;
        }
        log_debug("launcher: %s", launcher_describe(l));

        Run state = {.json = a.json};
        JobSpec spec = {
                .language = lang,
                .policy = policy,
                .source = source,
                .source_len = source_len,
                .stdin_data = input,
                .stdin_len = input_len,
                .limits = limits,
                .compile_limits = cfg.compile_limits,
        };
        JobCallbacks cb = {.on_output = on_output, .on_done = on_done};
        r = job_start(l, &spec, &cb, &state);
        if (r < 0) {
                log_error_errno(r, "cannot start the job");
                return EXIT_INTERNAL;
        }

        while (!state.done) {
                struct pollfd pfd[2] = {{.fd = launcher_get_fd(l), .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
                if (poll(pfd, 2, -1) < 0 && errno != EINTR)
                        return log_error_errno(errno, "poll"), EXIT_INTERNAL;
                if (pfd[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) > 0)
                                launcher_cancel(l, 0);
                }
                if (pfd[0].revents & POLLIN) {
                        r = launcher_dispatch(l, 0);
                        if (r < 0)
                                return log_error_errno(r, "event loop"), EXIT_INTERNAL;
                }
        }

        if (state.exit_code)
                return state.exit_code;
        if (a.json) {
                printf("%s\n", state.json_text);
                free(state.json_text);
        } else {
                fflush(stdout);
                fprintf(stderr, "%s\n", state.summary);
        }
        return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        return run(argc, argv);
}
