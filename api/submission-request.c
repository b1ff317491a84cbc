/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of the body of POST /api/v1/submissions: one schema, every refusal names its field. */
#include "submission-request.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "utf8.h"

/* The top-level keys, in the order they are checked. */
enum {
        KEY_LANGUAGE,
        KEY_SOURCE_CODE,
        KEY_STDIN,
        KEY_ARGS,
        KEY_EXPECTED_OUTPUT,
        KEY_LIMITS,
        _KEY_MAX,
};

static const char *const request_keys[_KEY_MAX] = {
        [KEY_LANGUAGE] = "language",
        [KEY_SOURCE_CODE] = "source_code",
        [KEY_STDIN] = "stdin",
        [KEY_ARGS] = "args",
        [KEY_EXPECTED_OUTPUT] = "expected_output",
        [KEY_LIMITS] = "limits",
};

/* The members of "limits". The minima are the config table's (common/config.c: SENTINEL_CPU_TIME_MS
 * and friends), so a request can ask for anything an operator could configure as a default;
 * test-submission-request checks that the two agree. */
typedef struct LimitField {
        const char *name;
        bool seconds;  /* a JSON number of seconds, kept in ms; otherwise a JSON integer */
        size_t offset; /* of its uint64_t in Limits */
        uint64_t min;  /* in Limits units (ms, KiB, count) */
        const char *unit;
        SubmissionLimit bit;
} LimitField;

#define LIMIT(n, s, f, lo, u, b)                                                                       \
        {                                                                                              \
                .name = n, .seconds = s, .offset = offsetof(Limits, f), .min = lo, .unit = u, .bit = b \
        }

static const LimitField limit_fields[] = {
        LIMIT("cpu_time", true, cpu_ms, 10, " seconds", SUBMISSION_LIMIT_CPU_TIME),
        LIMIT("wall_time", true, wall_ms, 10, " seconds", SUBMISSION_LIMIT_WALL_TIME),
        LIMIT("memory", false, memory_kb, 4096, " KiB", SUBMISSION_LIMIT_MEMORY),
        LIMIT("pids", false, pids, 1, "", SUBMISSION_LIMIT_PIDS),
        LIMIT("output", false, output_kb, 1, " KiB", SUBMISSION_LIMIT_OUTPUT),
};

/* In place: control characters and bytes that are not UTF-8 (a sequence cut by truncation) become
 * '?', so the text can go into a JSON string and a terminal. */
static void sanitize(char *s)
{
        unsigned char *p = (unsigned char *)s;
        size_t left = strlen(s);
        while (left > 0) {
                size_t n = utf8_char_len(p, left);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F))) {
                        *p = '?';
                        n = 1;
                }
                p += n;
                left -= n;
        }
}

/* Writes user text s (len bytes) to buf for quoting in a message: '"', '\' and control characters
 * escaped, invalid UTF-8 as \xNN. When it does not fit, ends in "...". Never cuts a character. */
static void escape_text(const char *s, size_t len, char *buf, size_t size)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t o = 0, room = size - 4; /* keeps space for "..." and the NUL */
        for (size_t i = 0; i < len;) {
                char piece[5];
                size_t n = utf8_char_len(p + i, len - i), plen;
                if (n == 1 && (p[i] == '"' || p[i] == '\\'))
                        plen = (size_t)snprintf(piece, sizeof piece, "\\%c", p[i]);
                else if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7F)))
                        plen = (size_t)snprintf(piece, sizeof piece, "\\x%02x", p[i]);
                else {
                        memcpy(piece, p + i, n);
                        plen = n;
                }
                if (o + plen > room) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                memcpy(buf + o, piece, plen);
                o += plen;
                i += n ? n : 1;
        }
        buf[o] = '\0';
}

/* Fills *err; returns -EINVAL, so `return fail(...)` refuses the request. */
_printf_(5, 6) static int fail(
        RequestError *err, int status, const char *code, const char *field, const char *fmt, ...)
{
        va_list ap;
        *err = (RequestError){.http_status = status, .code = code};
        snprintf(err->field, sizeof err->field, "%s", field);
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        sanitize(err->field);
        sanitize(err->message);
        return -EINVAL;
}

static int fail_oom(RequestError *err)
{
        fail(err, 503, "unavailable", "", "out of memory; retry");
        return -ENOMEM;
}

static const char *type_name(const json_t *j)
{
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
        default:
                return "null";
        }
}

/* Checks the raw text before jansson sees it: nesting deeper than SUBMISSION_MAX_DEPTH would make it
 * recurse, and every value costs it far more memory than its text (a body of "[1,1,1,...]" grows
 * twentyfold), while a valid request holds fewer than a hundred. Brackets and commas inside
 * strings do not count. */
static int check_shape(const char *data, size_t len, RequestError *err)
{
        size_t depth = 0, values = 0;
        bool in_string = false, escaped = false;
        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '{' || c == '[') {
                        if (++depth > SUBMISSION_MAX_DEPTH)
                                return fail(err, 400, "invalid_json", "",
                                        "the body is nested too deeply (more than %d levels)",
                                        SUBMISSION_MAX_DEPTH);
                        values++;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
                else if (c == ',')
                        values++;
                if (values > SUBMISSION_MAX_VALUES)
                        return fail(err, 400, "invalid_json", "", "the body holds more than %d JSON values",
                                SUBMISSION_MAX_VALUES);
        }
        return 0;
}

/* Parses the body into an object. JSON_ALLOW_NUL lets "\u0000" through so that the field holding
 * it can be named; JSON_DECODE_ANY lets a scalar body get the same answer as an array. */
static int load_body(const char *body, size_t len, json_t **ret, RequestError *err)
{
        if (!body || len == 0)
                return fail(err, 400, "invalid_json", "", "the body is empty: expected a JSON object");
        int r = check_shape(body, len, err);
        if (r < 0)
                return r;

        json_error_t e;
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
        if (!j)
                switch (json_error_code(&e)) {
                case json_error_out_of_memory:
                        return fail_oom(err);
                case json_error_invalid_utf8:
                        return fail(err, 400, "invalid_utf8", "",
                                "the body is not valid UTF-8 (line %d, column %d)", e.line, e.column);
                case json_error_duplicate_key:
                        return fail(err, 400, "duplicate_key", "", "line %d, column %d: %s", e.line,
                                e.column, e.text);
                case json_error_null_byte_in_key:
                        return fail(err, 422, "unknown_field", "", "a field name contains a NUL character");
                default:
                        return fail(err, 400, "invalid_json", "", "line %d, column %d: %s", e.line, e.column,
                                e.text);
                }
        if (!json_is_object(j)) {
                const char *what = type_name(j);
                json_decref(j);
                return fail(err, 400, "invalid_json", "", "the body must be a JSON object, not %s", what);
        }
        *ret = j;
        return 0;
}

static int unknown_field(const char *prefix, const char *key, RequestError *err)
{
        char name[sizeof err->field - 8];
        escape_text(key, strlen(key), name, sizeof name);
        char field[sizeof err->field];
        snprintf(field, sizeof field, "%s%s", prefix, name);
        return fail(err, 422, "unknown_field", field, "unknown field \"%s\"", field);
}

/* A string of at most max bytes without NUL; *ret is borrowed from v. */
static int get_string(const json_t *v, const char *field, uint64_t max, RequestError *err, const char **ret,
        size_t *ret_len)
{
        if (!json_is_string(v))
                return fail(
                        err, 422, "invalid_type", field, "%s must be a string, not %s", field, type_name(v));
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n > max)
                return fail(err, 422, "too_large", field,
                        "%s is %zu bytes, over the limit of %" PRIu64 " bytes", field, n, max);
        if (memchr(s, '\0', n))
                return fail(err, 422, "invalid_value", field, "%s must not contain NUL characters", field);
        *ret = s;
        *ret_len = n;
        return 0;
}

/* Copies a string field that get_string() accepted. */
static int dup_string(
        const json_t *v, const char *field, uint64_t max, RequestError *err, char **ret, size_t *ret_len)
{
        const char *s;
        size_t n;
        int r = get_string(v, field, max, err, &s, &n);
        if (r < 0)
                return r;
        char *copy = malloc(n + 1);
        if (!copy)
                return fail_oom(err);
        memcpy(copy, s, n);
        copy[n] = '\0';
        *ret = copy;
        *ret_len = n;
        return 0;
}

static char **strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

static int parse_args(const json_t *v, RequestError *err, char ***ret)
{
        if (!json_is_array(v))
                return fail(err, 422, "invalid_type", "args", "args must be an array of strings, not %s",
                        type_name(v));
        size_t n = json_array_size(v), total = 0;
        if (n > SUBMISSION_ARGS_MAX)
                return fail(err, 422, "too_large", "args", "args has %zu entries; at most %d are accepted",
                        n, SUBMISSION_ARGS_MAX);

        _cleanup_(strv_freep) char **argv = calloc(n + 1, sizeof *argv);
        if (!argv)
                return fail_oom(err);
        for (size_t i = 0; i < n; i++) {
                char field[32];
                size_t len;
                snprintf(field, sizeof field, "args[%zu]", i);
                int r = dup_string(
                        json_array_get(v, i), field, SUBMISSION_ARG_MAX_BYTES, err, &argv[i], &len);
                if (r < 0)
                        return r;
                total += len;
                if (total > SUBMISSION_ARGS_MAX_BYTES)
                        return fail(err, 422, "too_large", "args",
                                "args are over the limit of %d bytes in all", SUBMISSION_ARGS_MAX_BYTES);
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

/* "0.01", "60": a duration in ms as seconds, without trailing zeros. */
static void format_seconds(uint64_t ms, char *buf, size_t len)
{
        snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
        char *end = buf + strlen(buf);
        while (end[-1] == '0')
                *--end = '\0';
        if (end[-1] == '.')
                end[-1] = '\0';
}

static int parse_limit(
        const LimitField *f, const json_t *v, const Config *cfg, Limits *limits, RequestError *err)
{
        char field[32];
        snprintf(field, sizeof field, "limits.%s", f->name);
        uint64_t max = *(const uint64_t *)((const char *)&cfg->run_max + f->offset), value = 0;
        bool in_range;

        if (f->seconds) {
                if (!json_is_number(v))
                        return fail(err, 422, "invalid_type", field,
                                "%s must be a number of seconds, not %s", field, type_name(v));
                /* Rounded to the nearest ms, and compared as a double first so that a huge or
                 * non-finite number never reaches the conversion. */
                double ms = json_number_value(v) * 1000.0 + 0.5;
                in_range = isfinite(ms) && ms >= (double)f->min && ms < (double)max + 1.0;
                if (in_range)
                        value = (uint64_t)ms;
        } else {
                if (!json_is_integer(v))
                        return fail(err, 422, "invalid_type", field, "%s must be an integer, not %s", field,
                                type_name(v));
                json_int_t i = json_integer_value(v);
                in_range = i >= 0 && (uint64_t)i >= f->min && (uint64_t)i <= max;
                value = (uint64_t)i;
        }
        if (!in_range) {
                char lo[32], hi[32];
                if (f->seconds) {
                        format_seconds(f->min, lo, sizeof lo);
                        format_seconds(max, hi, sizeof hi);
                } else {
                        snprintf(lo, sizeof lo, "%" PRIu64, f->min);
                        snprintf(hi, sizeof hi, "%" PRIu64, max);
                }
                return fail(err, 422, "limit_out_of_range", field, "%s must be between %s and %s%s", field,
                        lo, hi, f->unit);
        }
        *(uint64_t *)((char *)limits + f->offset) = value;
        return 0;
}

static int parse_limits(const json_t *v, const Config *cfg, Limits *limits, unsigned *set, RequestError *err)
{
        if (!json_is_object(v))
                return fail(err, 422, "invalid_type", "limits", "limits must be an object, not %s",
                        type_name(v));
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *)v, key, value) {
                const LimitField *f = NULL;
                for (size_t i = 0; i < ELEMENTSOF(limit_fields) && !f; i++)
                        if (strcmp(key, limit_fields[i].name) == 0)
                                f = &limit_fields[i];
                if (!f)
                        return unknown_field("limits.", key, err);
                if (json_is_null(value))
                        continue;
                int r = parse_limit(f, value, cfg, limits, err);
                if (r < 0)
                        return r;
                *set |= f->bit;
        }
        return 0;
}

static const json_t *nonnull(const json_t *j)
{
        return json_is_null(j) ? NULL : j;
}

/* Validates body (len bytes, not necessarily NUL-terminated) against the schema in the header, with
 * the size and limit bounds of cfg and the languages of langs. Returns 0 and fills *ret (release
 * with submission_request_deinit(); ret->language is borrowed from langs). Otherwise leaves *ret
 * alone, fills *ret_err and returns -EINVAL for a refused request or -ENOMEM (status 503). */
int submission_request_parse(const char *body, size_t len, const Config *cfg, const LanguageRegistry *langs,
        SubmissionRequest *ret, RequestError *ret_err)
{
        json_auto_t *root = NULL;
        int r = load_body(body, len, &root, ret_err);
        if (r < 0)
                return r;

        /* Unknown keys first, so the refusal can name one (JSON_STRICT would only list them). */
        const char *key;
        json_t *value;
        json_object_foreach (root, key, value) {
                bool known = false;
                for (size_t i = 0; i < _KEY_MAX && !known; i++)
                        known = strcmp(key, request_keys[i]) == 0;
                if (!known)
                        return unknown_field("", key, ret_err);
        }

        /* The schema. Every key typed "o" so that the checks below can name the field. */
        json_t *v[_KEY_MAX] = {};
        json_error_t e;
        if (json_unpack_ex(root, &e, JSON_STRICT, "{s:o, s:o, s?o, s?o, s?o, s?o}",
                    request_keys[KEY_LANGUAGE], &v[KEY_LANGUAGE], request_keys[KEY_SOURCE_CODE],
                    &v[KEY_SOURCE_CODE], request_keys[KEY_STDIN], &v[KEY_STDIN], request_keys[KEY_ARGS],
                    &v[KEY_ARGS], request_keys[KEY_EXPECTED_OUTPUT], &v[KEY_EXPECTED_OUTPUT],
                    request_keys[KEY_LIMITS], &v[KEY_LIMITS]) < 0) {
                const char *missing = !json_object_get(root, request_keys[KEY_LANGUAGE])
                                              ? request_keys[KEY_LANGUAGE]
                                              : request_keys[KEY_SOURCE_CODE];
                return fail(ret_err, 422, "missing_field", missing, "%s is required", missing);
        }

        _cleanup_(submission_request_deinit) SubmissionRequest req = SUBMISSION_REQUEST_NULL;
        req.limits = cfg->run_default;

        const char *id;
        size_t id_len;
        if ((r = get_string(v[KEY_LANGUAGE], "language", SIZE_MAX, ret_err, &id, &id_len)) < 0)
                return r;
        req.language = language_registry_find(langs, id);
        if (!req.language) {
                char quoted[68];
                escape_text(id, id_len, quoted, sizeof quoted);
                return fail(ret_err, 422, "unknown_language", "language",
                        "unknown language \"%s\"; GET /api/v1/languages lists them", quoted);
        }

        uint64_t max_source = cfg->max_source_kb * 1024, max_stdin = cfg->max_stdin_kb * 1024;
        if ((r = dup_string(v[KEY_SOURCE_CODE], "source_code", max_source, ret_err, &req.source,
                     &req.source_len)) < 0)
                return r;
        if (req.source_len == 0)
                return fail(ret_err, 422, "invalid_value", "source_code", "source_code must not be empty");

        if (nonnull(v[KEY_STDIN]) && (r = dup_string(v[KEY_STDIN], "stdin", max_stdin, ret_err,
                                              &req.stdin_data, &req.stdin_len)) < 0)
                return r;
        if (nonnull(v[KEY_ARGS]) && (r = parse_args(v[KEY_ARGS], ret_err, &req.args)) < 0)
                return r;
        if (nonnull(v[KEY_EXPECTED_OUTPUT]) &&
                (r = dup_string(v[KEY_EXPECTED_OUTPUT], "expected_output", max_stdin, ret_err,
                         &req.expected_output, &req.expected_len)) < 0)
                return r;
        if (nonnull(v[KEY_LIMITS]) &&
                (r = parse_limits(v[KEY_LIMITS], cfg, &req.limits, &req.limits_set, ret_err)) < 0)
                return r;

        *ret = req;
        req = (SubmissionRequest)SUBMISSION_REQUEST_NULL;
        return 0;
}

/* Frees what r owns and resets it; safe on SUBMISSION_REQUEST_NULL and twice. */
void submission_request_deinit(SubmissionRequest *r)
{
        free(r->source);
        free(r->stdin_data);
        strv_free(r->args);
        free(r->expected_output);
        *r = (SubmissionRequest)SUBMISSION_REQUEST_NULL;
}

/* The effective run limits as the API echoes and stores them: {cpu_time, wall_time} in seconds,
 * {memory, output} in KiB, pids a count. Caller owns the reference; NULL on OOM. */
json_t *submission_request_limits_to_json(const SubmissionRequest *r)
{
        json_auto_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(limit_fields); i++) {
                const LimitField *f = &limit_fields[i];
                uint64_t value = *(const uint64_t *)((const char *)&r->limits + f->offset);
                json_t *j = f->seconds ? json_real((double)value / 1000.0) : json_integer((json_int_t)value);
                if (json_object_set_new(o, f->name, j) < 0)
                        return NULL;
        }
        return TAKE_PTR(o);
}
