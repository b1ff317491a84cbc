/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: bytes → submission_request_parse (the body of POST /api/v1/submissions). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "language.h"
#include "sentinel-config.h"
#include "submission-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small caps, so that the size checks are reachable within -max_len. */
static const char *fuzz_getenv(const char *name)
{
        if (strcmp(name, "SENTINEL_MAX_SOURCE_KB") == 0 || strcmp(name, "SENTINEL_MAX_STDIN_KB") == 0)
                return "1";
        return NULL;
}

/* Loaded once: the fixed config and the shipped registry (SENTINEL_SOURCE_DIR, else the source
 * tree this was built from). */
static void setup(Config *cfg, LanguageRegistry **langs)
{
        char err[512], path[4096];
        const char *dir = getenv("SENTINEL_SOURCE_DIR");
        if (dir && *dir)
                snprintf(path, sizeof path, "%s/sandbox-policies/languages.json", dir);
        else
                snprintf(path, sizeof path, "%s/languages.json", SENTINEL_SOURCE_POLICY_DIR);
        if (config_load_from(cfg, fuzz_getenv, err, sizeof err) < 0 ||
                language_registry_from_file(path, langs, err, sizeof err) < 0) {
                fprintf(stderr, "fuzz-submission-request: %s\n", err);
                abort();
        }
}

/* A clean text: NUL-terminated within its buffer, UTF-8 as jansson accepts it, no control characters. */
static bool clean(const char *s, size_t size)
{
        if (!memchr(s, '\0', size))
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        json_t *j = json_string(s);
        json_decref(j);
        return j != NULL;
}

/* Never fails: the fuzzer looks for crashes, leaks, hangs and sanitizer reports, and the traps
 * below for broken contracts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static Config cfg = CONFIG_NULL;
        static LanguageRegistry *langs;
        if (!langs)
                setup(&cfg, &langs);

        SubmissionRequest req = SUBMISSION_REQUEST_NULL;
        RequestError err = {};
        int r = submission_request_parse((const char *)data, size, &cfg, langs, &req, &err);
        if (r == 0) {
                /* What the API then does with an accepted request. */
                if (!req.language || !req.source || req.source_len == 0 ||
                        strlen(req.source) != req.source_len ||
                        (req.stdin_data && strlen(req.stdin_data) != req.stdin_len) ||
                        req.limits.cpu_ms < 10 || req.limits.cpu_ms > cfg.run_max.cpu_ms ||
                        req.limits.memory_kb > cfg.run_max.memory_kb || req.limits.pids > cfg.run_max.pids)
                        __builtin_trap();
                json_t *lj = submission_request_limits_to_json(&req);
                char *s = lj ? json_dumps(lj, JSON_COMPACT) : NULL;
                free(s);
                json_decref(lj);
                submission_request_deinit(&req);
        } else if (r == -EINVAL) {
                /* A refusal is a client error that says what and where, and writes no request. */
                if (err.http_status < 400 || err.http_status > 499 || !err.code || !*err.code ||
                        !clean(err.message, sizeof err.message) || !err.message[0] ||
                        !clean(err.field, sizeof err.field) || req.source || req.language)
                        __builtin_trap();
        } else if (r != -ENOMEM)
                __builtin_trap();
        return 0;
}
