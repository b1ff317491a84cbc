/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of the body of POST /api/v1/submissions into a SubmissionRequest. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "language.h"
#include "result.h"

/* The body, one JSON object (null counts as absent for every optional field):
 *
 *   language         string, required: an id of the language registry ("python")
 *   source_code      string, required: non-empty, at most max_source_kb KiB
 *   stdin            string: at most max_stdin_kb KiB
 *   args             array of at most 64 strings, each at most 4096 bytes, 64 KiB in all
 *   expected_output  string: at most max_stdin_kb KiB
 *   limits           object, every member optional:
 *     cpu_time       seconds, a number (may be fractional; resolution 1 ms)
 *     wall_time      seconds, a number (may be fractional; resolution 1 ms)
 *     memory         KiB, an integer
 *     pids           processes and threads, an integer
 *     output         KiB per stream (stdout, stderr), an integer
 *
 * Each limit must lie between the config table's minimum and the operator's maximum (run_max);
 * those not given take run_default. The language's floors (min_pids, min_memory_kb) are not
 * applied here: the runner raises the limits to them when the job starts. No string may contain
 * NUL; jansson guarantees the rest is valid UTF-8. */

#define SUBMISSION_ARGS_MAX       64
#define SUBMISSION_ARG_MAX_BYTES  4096
#define SUBMISSION_ARGS_MAX_BYTES (64 * 1024)
/* Checked on the raw body before parsing: nesting, and arrays + objects + commas. */
#define SUBMISSION_MAX_DEPTH      32
#define SUBMISSION_MAX_VALUES     1024

/* Which limits the client set (SubmissionRequest.limits_set). */
typedef enum SubmissionLimit {
        SUBMISSION_LIMIT_CPU_TIME = 1u << 0,
        SUBMISSION_LIMIT_WALL_TIME = 1u << 1,
        SUBMISSION_LIMIT_MEMORY = 1u << 2,
        SUBMISSION_LIMIT_PIDS = 1u << 3,
        SUBMISSION_LIMIT_OUTPUT = 1u << 4,
} SubmissionLimit;

typedef struct SubmissionRequest {
        const Language *language; /* borrowed from the registry */
        char *source;             /* NUL-terminated, no NUL inside */
        size_t source_len;
        char *stdin_data;         /* NULL when absent */
        size_t stdin_len;
        char **args;              /* NULL-terminated; NULL when absent, empty for [] */
        char *expected_output;    /* NULL when absent */
        size_t expected_len;
        Limits limits;            /* run limits: cfg->run_default, overridden by the request */
        unsigned limits_set;      /* SUBMISSION_LIMIT_* bits the request gave */
} SubmissionRequest;

#define SUBMISSION_REQUEST_NULL {}

/* Why a body was refused; the API answers {"error": {"code", "message", "field"}}.
 * Codes (status):
 *   invalid_json (400)        not JSON, trailing data, numbers beyond range, nested too deeply or
 *                             too many values (checked before parsing), empty body, or not an
 *                             object (field "")
 *   invalid_utf8 (400)        bytes that are not UTF-8
 *   duplicate_key (400)       an object names a key twice
 *   unknown_field (422)       a key not in the schema ("foo", "limits.foo")
 *   missing_field (422)       language or source_code absent
 *   invalid_type (422)        a field of the wrong JSON type ("limits.memory must be an integer")
 *   invalid_value (422)       empty source_code, or a NUL character in a string
 *   unknown_language (422)    language is not in the registry
 *   too_large (422)           source_code, stdin, expected_output or args over their limit
 *   limit_out_of_range (422)  a limit outside [minimum, operator maximum]; the message gives both
 *   unavailable (503)         out of memory
 * message and field are always NUL-terminated, valid UTF-8 without control characters. */
typedef struct RequestError {
        int http_status;
        const char *code; /* static string */
        char message[256];
        char field[64]; /* "" when the whole body is at fault */
} RequestError;

int submission_request_parse(const char *body, size_t len, const Config *cfg, const LanguageRegistry *langs,
        SubmissionRequest *ret, RequestError *ret_err);
void submission_request_deinit(SubmissionRequest *r);
json_t *submission_request_limits_to_json(const SubmissionRequest *r);
