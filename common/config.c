/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: one table of SENTINEL_* variables, each with a default and bounds. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sentinel-config.h"

typedef enum ConfigType {
        CONFIG_UINT,
        CONFIG_STRING,
} ConfigType;

typedef struct ConfigEntry {
        const char *env;
        ConfigType type;
        size_t offset;
        uint64_t def, min, max; /* CONFIG_UINT */
        const char *def_str;    /* CONFIG_STRING */
        const char *unit;
        const char *help;
} ConfigEntry;

#define U(var, field, d, lo, hi, u, h)                                                                 \
        {.env = var, .type = CONFIG_UINT, .offset = offsetof(Config, field), .def = d, .min = lo,       \
                .max = hi, .unit = u, .help = h}
#define S(var, field, d, h) {.env = var, .type = CONFIG_STRING, .offset = offsetof(Config, field), .def_str = d, .help = h}

static const ConfigEntry config_table[] = {
        U("SENTINEL_CPU_TIME_MS", run_default.cpu_ms, 5000, 10, 600000, "ms", "default CPU time limit"),
        U("SENTINEL_WALL_TIME_MS", run_default.wall_ms, 10000, 10, 1200000, "ms", "default wall time limit"),
        U("SENTINEL_MEMORY_KB", run_default.memory_kb, 262144, 4096, 67108864, "KiB", "default memory limit"),
        U("SENTINEL_PIDS", run_default.pids, 64, 1, 32768, "", "default process/thread limit"),
        U("SENTINEL_OUTPUT_KB", run_default.output_kb, 1024, 1, 1048576, "KiB", "default output limit per stream"),
        U("SENTINEL_FSIZE_KB", run_default.fsize_kb, 65536, 1, 4194304, "KiB", "largest file a program may write"),
        U("SENTINEL_MAX_CPU_TIME_MS", run_max.cpu_ms, 60000, 10, 3600000, "ms", "largest CPU time a request may ask"),
        U("SENTINEL_MAX_WALL_TIME_MS", run_max.wall_ms, 120000, 10, 7200000, "ms", "largest wall time a request may ask"),
        U("SENTINEL_MAX_MEMORY_KB", run_max.memory_kb, 2097152, 4096, 67108864, "KiB", "largest memory a request may ask"),
        U("SENTINEL_MAX_PIDS", run_max.pids, 256, 1, 32768, "", "largest pids limit a request may ask"),
        U("SENTINEL_MAX_OUTPUT_KB", run_max.output_kb, 65536, 1, 1048576, "KiB", "largest output limit a request may ask"),
        U("SENTINEL_MAX_FSIZE_KB", run_max.fsize_kb, 262144, 1, 4194304, "KiB", "largest file-size limit a request may ask"),
        U("SENTINEL_COMPILE_CPU_TIME_MS", compile_limits.cpu_ms, 10000, 10, 600000, "ms", "compile step CPU time"),
        U("SENTINEL_COMPILE_WALL_TIME_MS", compile_limits.wall_ms, 15000, 10, 1200000, "ms", "compile step wall time"),
        U("SENTINEL_COMPILE_MEMORY_KB", compile_limits.memory_kb, 524288, 4096, 67108864, "KiB", "compile step memory"),
        U("SENTINEL_COMPILE_PIDS", compile_limits.pids, 128, 1, 32768, "", "compile step processes/threads"),
        U("SENTINEL_COMPILE_OUTPUT_KB", compile_limits.output_kb, 64, 1, 65536, "KiB", "compiler output kept per stream"),
        U("SENTINEL_COMPILE_FSIZE_KB", compile_limits.fsize_kb, 131072, 1, 4194304, "KiB", "largest file the compiler may write"),
        U("SENTINEL_BOX_SIZE_MB", box_size_mb, 128, 1, 65536, "MiB", "size of the writable /box"),
        U("SENTINEL_TMP_SIZE_MB", tmp_size_mb, 64, 1, 65536, "MiB", "size of the writable /tmp"),
        U("SENTINEL_NOFILE", nofile, 256, 16, 65536, "", "open files per process (RLIMIT_NOFILE)"),
        U("SENTINEL_STACK_MB", stack_mb, 64, 1, 4096, "MiB", "stack size (RLIMIT_STACK)"),
        U("SENTINEL_KILL_GRACE_MS", kill_grace_ms, 200, 0, 10000, "ms", "SIGTERM to SIGKILL grace on wall timeout"),
        U("SENTINEL_SLOTS", slots, 0, 0, 1024, "", "concurrent sandboxes (0: one per CPU)"),
        U("SENTINEL_UID_BASE", uid_base, 60000, 1000, 4000000000, "", "sandbox uids start here (each slot locks a free one)"),
        U("SENTINEL_MAX_STDIN_KB", max_stdin_kb, 16384, 0, 1048576, "KiB", "largest stdin accepted"),
        U("SENTINEL_MAX_SOURCE_KB", max_source_kb, 1024, 1, 65536, "KiB", "largest source file accepted"),
        S("SENTINEL_DATABASE_URL", database_url, "postgresql://sentinel@127.0.0.1:55432/sentinel", "PostgreSQL connection URI"),
        S("SENTINEL_AMQP_URL", amqp_url, "amqp://guest:guest@127.0.0.1:55672/", "RabbitMQ URL"),
        S("SENTINEL_REDIS_URL", redis_url, "redis://127.0.0.1:56379/0", "Redis URL"),
        S("SENTINEL_QUEUE", queue, "sentinel.jobs", "RabbitMQ quorum queue for jobs"),
        U("SENTINEL_PREFETCH", prefetch, 0, 0, 65535, "", "jobs a worker holds from the queue (0: one per slot; more: the next job is at hand when a slot frees)"),
        U("SENTINEL_DELIVERY_LIMIT", delivery_limit, 3, 1, 100, "", "deliveries before a job is dead-lettered"),
        S("SENTINEL_LISTEN_ADDRESS", listen_address, "127.0.0.1", "address the API, WebSocket and metrics listen on"),
        U("SENTINEL_API_PORT", api_port, 8080, 1, 65535, "", "REST API port"),
        U("SENTINEL_WS_PORT", ws_port, 8081, 1, 65535, "", "WebSocket port"),
        U("SENTINEL_PUBLIC_WS_PORT", public_ws_port, 0, 0, 65535, "", "WebSocket port the browser page connects to, behind a proxy (0: SENTINEL_WS_PORT)"),
        U("SENTINEL_METRICS_PORT", metrics_port, 9090, 1, 65535, "", "worker metrics and health port"),
        U("SENTINEL_API_THREADS", api_threads, 0, 0, 256, "", "HTTP threads (0: one per CPU)"),
        U("SENTINEL_MAX_BODY_KB", max_body_kb, 32768, 1, 1048576, "KiB", "largest request body"),
        U("SENTINEL_MAX_CONNECTIONS", max_connections, 2048, 1, 65536, "", "concurrent HTTP connections"),
        U("SENTINEL_CONNECTION_TIMEOUT_S", connection_timeout_s, 30, 1, 3600, "s", "idle or slow HTTP clients are cut off after this"),
        U("SENTINEL_WAIT_MAX_MS", wait_max_ms, 30000, 0, 600000, "ms", "longest ?wait=true hold"),
        U("SENTINEL_DB_POOL", db_pool, 8, 1, 256, "", "PostgreSQL connections per API process"),
        S("SENTINEL_TRUSTED_PROXIES", trusted_proxies, "", "proxies whose X-Forwarded-For names the client (addresses or CIDR, comma-separated; empty: none)"),
        S("SENTINEL_CORS_ORIGIN", cors_origin, "", "Access-Control-Allow-Origin value (empty: no CORS)"),
        S("SENTINEL_WS_ORIGINS", ws_origins, "", "allowed WebSocket Origins, comma-separated (empty: same host, *: any)"),
        S("SENTINEL_WEB_ROOT", web_root, "", "directory of the built browser editor (web/dist); empty: no page"),
        U("SENTINEL_RELAY_INTERVAL_MS", relay_interval_ms, 1000, 10, 3600000, "ms", "how often unconfirmed submissions are looked for"),
        U("SENTINEL_RELAY_AGE_MS", relay_age_ms, 5000, 10, 3600000, "ms", "age at which an unconfirmed submission is re-published"),
        U("SENTINEL_EVENTS_TTL_S", events_ttl_s, 3600, 1, 604800, "s", "how long a finished job's event stream stays in Redis"),
        U("SENTINEL_EVENTS_MAXLEN", events_maxlen, 10000, 16, 1000000, "", "entries kept per event stream"),
        U("SENTINEL_RATE_PER_S", rate_per_s, 10, 0, 1000000, "/s", "submissions per second per client, sustained (0: no rate limit)"),
        U("SENTINEL_RATE_BURST", rate_burst, 30, 1, 1000000, "", "submissions a client may send at once before the rate applies"),
        U("SENTINEL_MAX_ACTIVE_PER_CLIENT", max_active_per_client, 32, 0, 1000000, "", "queued-plus-running jobs per client (0: no cap)"),
        U("SENTINEL_RESULT_CACHE_ENTRIES", result_cache_entries, 16384, 0, 16777216, "", "final submissions the API keeps in memory for GET (0: no cache)"),
        U("SENTINEL_RESULT_CACHE_MB", result_cache_mb, 64, 1, 65536, "MiB", "memory for that cache"),
        U("SENTINEL_AUTH_REFRESH_MS", auth_refresh_ms, 1000, 100, 3600000, "ms", "how often the API re-reads the API keys (a revocation takes this long)"),
        U("SENTINEL_SHUTDOWN_GRACE_MS", shutdown_grace_ms, 30000, 0, 600000, "ms", "SIGTERM: time to finish in-flight work"),
        S("SENTINEL_POLICY_DIR", policy_dir, "", "sandbox-policies directory (languages.json, seccomp/)"),
        S("SENTINEL_MIGRATIONS_DIR", migrations_dir, "", "database migrations (NNNN_name.sql) the API applies at start; empty: the installed ones, else the source tree's"),
        S("SENTINEL_CGROUP_ROOT", cgroup_root, "", "cgroup (relative to the hierarchy) to create slots under; empty: our own"),
        S("SENTINEL_LOG_LEVEL", log_level, "info", "debug, info, warning or error"),
};

static int parse_u64(const char *s, uint64_t *ret)
{
        /* strtoull() skips leading white space and accepts a sign after it (" -1" is ULLONG_MAX):
         * only digits. */
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *env_default(const char *name)
{
        return getenv(name);
}

int config_load_from(Config *cfg, const char *(*getenv_fn)(const char *name), char *errbuf, size_t errlen)
{
        *cfg = (Config){};
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                const ConfigEntry *e = &config_table[i];
                const char *v = getenv_fn(e->env);
                void *field = (char *)cfg + e->offset;
                if (e->type == CONFIG_UINT) {
                        uint64_t x = e->def;
                        if (v && parse_u64(v, &x) < 0) {
                                snprintf(errbuf, errlen, "%s=\"%.64s\" is not a whole number (%" PRIu64 "..%" PRIu64 ")",
                                        e->env, v, e->min, e->max);
                                config_deinit(cfg);
                                return -EINVAL;
                        }
                        if (x < e->min || x > e->max) {
                                snprintf(errbuf, errlen, "%s=%" PRIu64 " is out of range %" PRIu64 "..%" PRIu64 " %s",
                                        e->env, x, e->min, e->max, e->unit);
                                config_deinit(cfg);
                                return -EINVAL;
                        }
                        *(uint64_t *)field = x;
                } else {
                        char *s = strdup(v ? v : e->def_str);
                        if (!s) {
                                config_deinit(cfg);
                                return -ENOMEM;
                        }
                        *(char **)field = s;
                }
        }

        /* Cross-field rules: defaults never exceed the maxima. */
        const struct {
                const char *what;
                uint64_t def, max;
        } pairs[] = {
                {"CPU_TIME_MS", cfg->run_default.cpu_ms, cfg->run_max.cpu_ms},
                {"WALL_TIME_MS", cfg->run_default.wall_ms, cfg->run_max.wall_ms},
                {"MEMORY_KB", cfg->run_default.memory_kb, cfg->run_max.memory_kb},
                {"PIDS", cfg->run_default.pids, cfg->run_max.pids},
                {"OUTPUT_KB", cfg->run_default.output_kb, cfg->run_max.output_kb},
                {"FSIZE_KB", cfg->run_default.fsize_kb, cfg->run_max.fsize_kb},
        };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                if (pairs[i].def > pairs[i].max) {
                        snprintf(errbuf, errlen, "SENTINEL_%s (%" PRIu64 ") is above SENTINEL_MAX_%s (%" PRIu64 ")",
                                pairs[i].what, pairs[i].def, pairs[i].what, pairs[i].max);
                        config_deinit(cfg);
                        return -EINVAL;
                }

        if (!cfg->policy_dir[0]) {
                free(cfg->policy_dir);
                cfg->policy_dir = strdup(SENTINEL_POLICY_DIR);
                if (!cfg->policy_dir) {
                        config_deinit(cfg);
                        return -ENOMEM;
                }
        }
        return 0;
}

int config_load(Config *cfg, char *errbuf, size_t errlen)
{
        return config_load_from(cfg, env_default, errbuf, errlen);
}

void config_deinit(Config *cfg)
{
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (config_table[i].type == CONFIG_STRING) {
                        char **p = (char **)((char *)cfg + config_table[i].offset);
                        free(*p);
                        *p = NULL;
                }
}

void config_print_reference(void)
{
        printf("%-32s %-12s %-22s %s\n", "VARIABLE", "DEFAULT", "RANGE", "MEANING");
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                const ConfigEntry *e = &config_table[i];
                if (e->type == CONFIG_UINT) {
                        char range[64];
                        snprintf(range, sizeof range, "%" PRIu64 "..%" PRIu64 " %s", e->min, e->max, e->unit);
                        printf("%-32s %-12" PRIu64 " %-22s %s\n", e->env, e->def, range, e->help);
                } else
                        printf("%-32s %-12s %-22s %s\n", e->env, *e->def_str ? e->def_str : "\"\"", "text", e->help);
        }
}
