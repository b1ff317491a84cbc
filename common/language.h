/* SPDX-License-Identifier: Apache-2.0 */
/* The language registry: data (sandbox-policies/languages.json), loaded and validated here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Language {
        char *id;             /* "python": [a-z0-9_+-]{1,32} */
        char *name;           /* "Python 3" */
        char *version;        /* "3.11" */
        char *source_file;    /* file name the source is written to in /box, e.g. "main.py" */
        char **compile_argv;  /* NULL when interpreted; NULL-terminated otherwise */
        char **run_argv;      /* NULL-terminated; argv[0] an absolute path */
        char **env;           /* extra "KEY=VALUE" for both steps, NULL-terminated (may be empty) */
        char **ro_mounts;     /* extra absolute host paths bound read-only, NULL-terminated */
        uint64_t min_pids;    /* the runtime needs at least this many (java: threads); 0 = none */
        uint64_t min_memory_kb; /* the runtime needs at least this much; 0 = none */
        char *compile_profile; /* seccomp profile name for the compile step ("compile") */
        char *run_profile;     /* seccomp profile name for the run step ("run") */
} Language;

typedef struct LanguageRegistry {
        Language *languages;
        size_t n_languages;
} LanguageRegistry;

/* Validates and loads {"languages": [ {...}, ... ]}. Unknown keys are errors. On error returns
 * -EINVAL with a message naming the entry and field in errbuf. */
int language_registry_from_json(const json_t *doc, LanguageRegistry **ret, char *errbuf, size_t errlen);
/* Same from a file (bounded read: 1 MiB, depth 16). */
int language_registry_from_file(const char *path, LanguageRegistry **ret, char *errbuf, size_t errlen);
LanguageRegistry *language_registry_free(LanguageRegistry *r);
const Language *language_registry_find(const LanguageRegistry *r, const char *id);
/* JSON array [{id, name, version, compiled}] for listings. */
json_t *language_registry_to_json(const LanguageRegistry *r);
