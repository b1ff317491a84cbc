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

        char *policy_dir;         /* sandbox-policies/ (languages.json, seccomp/) */
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
