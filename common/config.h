/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: one table of SENTINEL_* environment variables with defaults and bounds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "result.h"

typedef struct Config {
        /* Limits applied when a request names none, and the operator's maxima. */
        Limits run_default;
        Limits run_max;
        Limits compile_limits; /* compile step: its own wall/memory/... */

        uint64_t box_size_mb;     /* writable /box tmpfs */
        uint64_t tmp_size_mb;     /* writable /tmp tmpfs */
        uint64_t nofile;          /* RLIMIT_NOFILE */
        uint64_t stack_mb;        /* RLIMIT_STACK */
        uint64_t kill_grace_ms;   /* SIGTERM → SIGKILL grace on wall timeout */
        uint64_t slots;           /* concurrent sandboxes per launcher; 0 = number of CPUs */
        uint64_t uid_base;        /* slot N runs as uid/gid uid_base + N */
        uint64_t max_stdin_kb;    /* largest stdin accepted */
        uint64_t max_source_kb;   /* largest source file accepted */

        /* Services: sentinel-api and sentinel-worker. */
        char *database_url;       /* libpq connection URI */
        char *amqp_url;           /* amqp://user:pass@host:port/vhost */
        char *redis_url;          /* redis://host:port/db */
        char *queue;              /* RabbitMQ quorum queue of jobs */
        uint64_t prefetch;        /* deliveries a worker holds; 0 = one per slot */
        uint64_t delivery_limit;  /* deliveries before a job is dead-lettered */
        char *listen_address;     /* where the API, WebSocket and metrics listen */
        uint64_t api_port;
        uint64_t ws_port;
        uint64_t public_ws_port;  /* the WebSocket port as clients reach it (0 = ws_port) */
        uint64_t metrics_port;    /* worker metrics and /health */
        uint64_t api_threads;     /* HTTP worker threads; 0 = number of CPUs */
        uint64_t max_body_kb;     /* request bodies above this get 413 before they are read */
        uint64_t max_connections;
        uint64_t connection_timeout_s; /* idle or slow clients are cut off after this */
        uint64_t wait_max_ms;     /* cap for ?wait=true */
        uint64_t db_pool;         /* PostgreSQL connections per API process */
        char *trusted_proxies;    /* addresses/CIDRs whose X-Forwarded-For is believed; "" = none */
        char *cors_origin;        /* Access-Control-Allow-Origin; "" = no CORS headers */
        char *ws_origins;         /* allowed WebSocket Origins, comma-separated; "" = same host; "*" = any */
        char *web_root;           /* the built browser editor (web/dist); "" = no page */
        uint64_t relay_interval_ms; /* how often unconfirmed submissions are looked for */
        uint64_t relay_age_ms;    /* a submission unconfirmed this long is re-published */
        uint64_t events_ttl_s;    /* how long a job's event stream stays in Redis after it ends */
        uint64_t events_maxlen;   /* entries kept per event stream */
        uint64_t rate_per_s;            /* submissions per second per client; 0 = no limit */
        uint64_t rate_burst;            /* token bucket size */
        uint64_t max_active_per_client; /* queued + running per client; 0 = no cap */
        uint64_t result_cache_entries;  /* final submissions cached for GET; 0 = none */
        uint64_t result_cache_mb;
        uint64_t auth_refresh_ms;       /* API keys re-read interval */
        uint64_t shutdown_grace_ms; /* SIGTERM: time to finish what is in flight */

        char *policy_dir;         /* sandbox-policies/ (languages.json, seccomp/) */
        char *migrations_dir;     /* migrations/ (NNNN_name.sql); "" = the installed one, else the source tree's */
        char *cgroup_root;        /* override: cgroup to create slots under ("" = own cgroup) */
        char *log_level;
} Config;

#define CONFIG_NULL {}

/* Fills *cfg with defaults, then overrides from the environment. On a bad value, returns -EINVAL
 * and writes a human message (naming the variable and its bounds) to errbuf. */
int config_load(Config *cfg, char *errbuf, size_t errlen);
/* Same, reading variables through getenv_fn (tests). */
int config_load_from(Config *cfg, const char *(*getenv_fn)(const char *name), char *errbuf, size_t errlen);
void config_deinit(Config *cfg);
/* Writes a table of every setting (env var, default, bounds, description) to stdout. */
void config_print_reference(void);
