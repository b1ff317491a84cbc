/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: validation of submission requests (api/submission-request.c). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "language.h"
#include "submission-request.h"
#include "test-util.h"

/* The fake environment: small size caps so that oversize bodies stay small; the limit maxima are
 * the defaults except CPU time. Tests may set one more variable through extra_env. */
static const char *extra_env[2];

static const char *fake_getenv(const char *name)
{
        static const char *const env[][2] = {
                {"SENTINEL_MAX_SOURCE_KB", "4"},
                {"SENTINEL_MAX_STDIN_KB", "2"},
                {"SENTINEL_MAX_CPU_TIME_MS", "20000"},
        };
        if (extra_env[0] && strcmp(extra_env[0], name) == 0)
                return extra_env[1];
        for (size_t i = 0; i < ELEMENTSOF(env); i++)
                if (strcmp(env[i][0], name) == 0)
                        return env[i][1];
        return NULL;
}

static Config cfg = CONFIG_NULL;
static LanguageRegistry *langs;

static const char *source_dir(void)
{
        const char *d = getenv("SENTINEL_SOURCE_DIR");
        return d && *d ? d : ".";
}

static char *repeat(const char *s, size_t n)
{
        size_t len = strlen(s);
        char *out = malloc(len * n + 1);
        if (!out)
                abort();
        for (size_t i = 0; i < n; i++)
                memcpy(out + i * len, s, len);
        out[len * n] = '\0';
        return out;
}

_printf_(1, 2) static char *format(const char *fmt, ...)
{
        char *s;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort();
        return s;
}

/* Whether s is valid UTF-8 without control characters (what the API may put into JSON and logs). */
static bool clean_text(const char *s)
{
        json_t *j = json_string(s);
        bool ok = j != NULL;
        json_decref(j);
        for (; ok && *s; s++)
                ok = (unsigned char)*s >= 0x20 && *s != 0x7f;
        return ok;
}

#define REQ(extra) "{\"language\": \"python\", \"source_code\": \"print(1)\"" extra "}"

typedef struct Case {
        const char *name;
        const char *body;
        size_t len; /* 0: strlen(body) */
        int status;
        const char *code;
        const char *field;
} Case;

static void check_case(const Case *c)
{
        SubmissionRequest req;
        memset(&req, 0xA5, sizeof req);
        SubmissionRequest before = req;
        RequestError err = {};
        size_t len = c->len ? c->len : strlen(c->body);
        int r = submission_request_parse(c->body, len, &cfg, langs, &req, &err);
        if (r == 0) {
                CHECK(false, "%s: accepted", c->name);
                submission_request_deinit(&req);
                return;
        }
        CHECK(r == -EINVAL, "%s: r=%d", c->name, r);
        CHECK(err.http_status == c->status && err.code && strcmp(err.code, c->code) == 0 &&
                        strcmp(err.field, c->field) == 0,
                "%s: got %d %s field \"%s\" (%s), want %d %s field \"%s\"", c->name, err.http_status,
                err.code ? err.code : "(null)", err.field, err.message, c->status, c->code, c->field);
        CHECK(err.message[0] && clean_text(err.message) && clean_text(err.field), "%s: message \"%s\"",
                c->name, err.message);
        CHECK(memcmp(&req, &before, sizeof req) == 0, "%s: ret written on failure", c->name);
}

static const Case literal_cases[] = {
        /* Not a JSON object. */
        {"empty body", "", 0, 400, "invalid_json", ""},
        {"white space", "  \n ", 0, 400, "invalid_json", ""},
        {"truncated", "{\"language\": \"python\"", 0, 400, "invalid_json", ""},
        {"trailing comma", REQ(","), 0, 400, "invalid_json", ""},
        {"trailing data", REQ("") " {}", 0, 400, "invalid_json", ""},
        {"single quotes", "{'language': 'python'}", 0, 400, "invalid_json", ""},
        {"comment", REQ("/* x */"), 0, 400, "invalid_json", ""},
        {"NaN literal", REQ(", \"limits\": {\"cpu_time\": NaN}"), 0, 400, "invalid_json", ""},
        {"Infinity literal", REQ(", \"limits\": {\"cpu_time\": Infinity}"), 0, 400, "invalid_json", ""},
        {"array body", "[{\"language\": \"python\", \"source_code\": \"x\"}]", 0, 400, "invalid_json", ""},
        {"string body", "\"print(1)\"", 0, 400, "invalid_json", ""},
        {"number body", "42", 0, 400, "invalid_json", ""},
        {"null body", "null", 0, 400, "invalid_json", ""},
        {"raw NUL byte", "{\"language\": \"py\0thon\", \"source_code\": \"x\"}", 44, 400, "invalid_json",
                ""},
        {"lone surrogate", REQ(", \"stdin\": \"\\ud800\""), 0, 400, "invalid_json", ""},
        {"1e309", REQ(", \"limits\": {\"cpu_time\": 1e309}"), 0, 400, "invalid_json", ""},
        {"-1e309", REQ(", \"limits\": {\"wall_time\": -1e309}"), 0, 400, "invalid_json", ""},
        {"integer beyond int64", REQ(", \"limits\": {\"memory\": 99999999999999999999}"), 0, 400,
                "invalid_json", ""},
        /* Bytes that are not UTF-8. */
        {"0xff in a string", REQ(", \"stdin\": \"a\xff\""), 0, 400, "invalid_utf8", ""},
        {"overlong '/'", REQ(", \"stdin\": \"\xc0\xaf\""), 0, 400, "invalid_utf8", ""},
        {"encoded surrogate", REQ(", \"stdin\": \"\xed\xa0\x80\""), 0, 400, "invalid_utf8", ""},
        {"cut sequence", REQ(", \"stdin\": \"\xe2\x82\""), 0, 400, "invalid_utf8", ""},
        {"0xfe outside strings", REQ("\xfe"), 0, 400, "invalid_utf8", ""},
        /* Duplicates and unknown keys. */
        {"duplicate key", "{\"language\": \"python\", \"language\": \"c\", \"source_code\": \"x\"}", 0, 400,
                "duplicate_key", ""},
        {"duplicate key in limits", REQ(", \"limits\": {\"pids\": 2, \"pids\": 3}"), 0, 400, "duplicate_key",
                ""},
        {"unknown field", REQ(", \"priority\": 1"), 0, 422, "unknown_field", "priority"},
        {"unknown field before required", "{\"Language\": \"python\"}", 0, 422, "unknown_field", "Language"},
        {"unknown limit", REQ(", \"limits\": {\"fsize\": 10}"), 0, 422, "unknown_field", "limits.fsize"},
        {"unknown key with control chars", REQ(", \"a\\u001b[31m\\\"\": 1"), 0, 422, "unknown_field",
                "a\\x1b[31m\\\""},
        {"NUL in a key", REQ(", \"a\\u0000b\": 1"), 0, 422, "unknown_field", ""},
        /* Required fields. */
        {"no language", "{\"source_code\": \"x\"}", 0, 422, "missing_field", "language"},
        {"no source_code", "{\"language\": \"python\"}", 0, 422, "missing_field", "source_code"},
        {"empty object", "{}", 0, 422, "missing_field", "language"},
        /* Types. */
        {"language number", "{\"language\": 3, \"source_code\": \"x\"}", 0, 422, "invalid_type", "language"},
        {"language null", "{\"language\": null, \"source_code\": \"x\"}", 0, 422, "invalid_type",
                "language"},
        {"language array", "{\"language\": [\"python\"], \"source_code\": \"x\"}", 0, 422, "invalid_type",
                "language"},
        {"source_code number", "{\"language\": \"python\", \"source_code\": 1}", 0, 422, "invalid_type",
                "source_code"},
        {"source_code null", "{\"language\": \"python\", \"source_code\": null}", 0, 422, "invalid_type",
                "source_code"},
        {"stdin object", REQ(", \"stdin\": {}"), 0, 422, "invalid_type", "stdin"},
        {"stdin boolean", REQ(", \"stdin\": false"), 0, 422, "invalid_type", "stdin"},
        {"args string", REQ(", \"args\": \"a b\""), 0, 422, "invalid_type", "args"},
        {"args object", REQ(", \"args\": {\"a\": \"b\"}"), 0, 422, "invalid_type", "args"},
        {"args number entry", REQ(", \"args\": [\"a\", 2]"), 0, 422, "invalid_type", "args[1]"},
        {"args null entry", REQ(", \"args\": [null]"), 0, 422, "invalid_type", "args[0]"},
        {"expected_output boolean", REQ(", \"expected_output\": true"), 0, 422, "invalid_type",
                "expected_output"},
        {"expected_output number", REQ(", \"expected_output\": 3"), 0, 422, "invalid_type",
                "expected_output"},
        {"limits array", REQ(", \"limits\": [1]"), 0, 422, "invalid_type", "limits"},
        {"limits number", REQ(", \"limits\": 5"), 0, 422, "invalid_type", "limits"},
        {"cpu_time string", REQ(", \"limits\": {\"cpu_time\": \"2\"}"), 0, 422, "invalid_type",
                "limits.cpu_time"},
        {"cpu_time true", REQ(", \"limits\": {\"cpu_time\": true}"), 0, 422, "invalid_type",
                "limits.cpu_time"},
        {"wall_time false", REQ(", \"limits\": {\"wall_time\": false}"), 0, 422, "invalid_type",
                "limits.wall_time"},
        {"memory true", REQ(", \"limits\": {\"memory\": true}"), 0, 422, "invalid_type", "limits.memory"},
        {"memory fractional", REQ(", \"limits\": {\"memory\": 131072.5}"), 0, 422, "invalid_type",
                "limits.memory"},
        {"memory real", REQ(", \"limits\": {\"memory\": 131072.0}"), 0, 422, "invalid_type",
                "limits.memory"},
        {"memory exponent", REQ(", \"limits\": {\"memory\": 1e5}"), 0, 422, "invalid_type", "limits.memory"},
        {"memory string", REQ(", \"limits\": {\"memory\": \"1024\"}"), 0, 422, "invalid_type",
                "limits.memory"},
        {"pids array", REQ(", \"limits\": {\"pids\": [4]}"), 0, 422, "invalid_type", "limits.pids"},
        {"output object", REQ(", \"limits\": {\"output\": {}}"), 0, 422, "invalid_type", "limits.output"},
        /* Values. */
        {"unknown language", "{\"language\": \"cobol\", \"source_code\": \"x\"}", 0, 422, "unknown_language",
                "language"},
        {"language case", "{\"language\": \"Python\", \"source_code\": \"x\"}", 0, 422, "unknown_language",
                "language"},
        {"empty language", "{\"language\": \"\", \"source_code\": \"x\"}", 0, 422, "unknown_language",
                "language"},
        {"NUL in language", "{\"language\": \"python\\u0000x\", \"source_code\": \"x\"}", 0, 422,
                "invalid_value", "language"},
        {"empty source", "{\"language\": \"python\", \"source_code\": \"\"}", 0, 422, "invalid_value",
                "source_code"},
        {"NUL in source", "{\"language\": \"python\", \"source_code\": \"a\\u0000b\"}", 0, 422,
                "invalid_value", "source_code"},
        {"NUL in stdin", REQ(", \"stdin\": \"\\u0000\""), 0, 422, "invalid_value", "stdin"},
        {"NUL in args", REQ(", \"args\": [\"ok\", \"a\\u0000\"]"), 0, 422, "invalid_value", "args[1]"},
        {"NUL in expected_output", REQ(", \"expected_output\": \"1\\u0000\""), 0, 422, "invalid_value",
                "expected_output"},
        /* Limits out of range. */
        {"cpu_time zero", REQ(", \"limits\": {\"cpu_time\": 0}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time negative", REQ(", \"limits\": {\"cpu_time\": -1}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time -0.0", REQ(", \"limits\": {\"cpu_time\": -0.0}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time below 10 ms", REQ(", \"limits\": {\"cpu_time\": 0.0094}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time tiny", REQ(", \"limits\": {\"cpu_time\": 1e-300}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time above max", REQ(", \"limits\": {\"cpu_time\": 20.001}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time 1e308", REQ(", \"limits\": {\"cpu_time\": 1e308}"), 0, 422, "limit_out_of_range",
                "limits.cpu_time"},
        {"cpu_time huge integer", REQ(", \"limits\": {\"cpu_time\": 9223372036854775807}"), 0, 422,
                "limit_out_of_range", "limits.cpu_time"},
        {"wall_time above max", REQ(", \"limits\": {\"wall_time\": 120.5}"), 0, 422, "limit_out_of_range",
                "limits.wall_time"},
        {"memory zero", REQ(", \"limits\": {\"memory\": 0}"), 0, 422, "limit_out_of_range", "limits.memory"},
        {"memory negative", REQ(", \"limits\": {\"memory\": -4096}"), 0, 422, "limit_out_of_range",
                "limits.memory"},
        {"memory most negative", REQ(", \"limits\": {\"memory\": -9223372036854775808}"), 0, 422,
                "limit_out_of_range", "limits.memory"},
        {"memory below min", REQ(", \"limits\": {\"memory\": 4095}"), 0, 422, "limit_out_of_range",
                "limits.memory"},
        {"memory above max", REQ(", \"limits\": {\"memory\": 2097153}"), 0, 422, "limit_out_of_range",
                "limits.memory"},
        {"memory int64 max", REQ(", \"limits\": {\"memory\": 9223372036854775807}"), 0, 422,
                "limit_out_of_range", "limits.memory"},
        {"pids zero", REQ(", \"limits\": {\"pids\": 0}"), 0, 422, "limit_out_of_range", "limits.pids"},
        {"pids above max", REQ(", \"limits\": {\"pids\": 257}"), 0, 422, "limit_out_of_range",
                "limits.pids"},
        {"output zero", REQ(", \"limits\": {\"output\": 0}"), 0, 422, "limit_out_of_range", "limits.output"},
        {"output above max", REQ(", \"limits\": {\"output\": 65537}"), 0, 422, "limit_out_of_range",
                "limits.output"},
        {"first bad limit wins", REQ(", \"limits\": {\"pids\": 4, \"output\": 0, \"memory\": 0}"), 0, 422,
                "limit_out_of_range", "limits.output"},
};

/* Cases whose bodies are built at run time (large or deep). */
static void test_generated_cases(void)
{
        _cleanup_free_ char *deep_open = repeat("[", 10000), *deep_close = repeat("]", 10000);
        _cleanup_free_ char *obj_open = repeat("{\"a\":", 10000), *obj_close = repeat("}", 10000);
        /* The body, limits and the array of "x" are three levels. */
        _cleanup_free_ char *d29_open = repeat("[", 29), *d29_close = repeat("]", 29);
        _cleanup_free_ char *d30_open = repeat("[", 30), *d30_close = repeat("]", 30);
        _cleanup_free_ char *src_max = repeat("x", 4096), *src_over = repeat("x", 4097);
        _cleanup_free_ char *in_over = repeat("y", 2049), *arg_over = repeat("z", 4097);
        _cleanup_free_ char *arg4000 = repeat("a", 4000), *lf_over = repeat("\\n", 4097);
        _cleanup_free_ char *args65 = repeat("\"a\",", 64), *args17 = NULL,
                            *args2000 = repeat("\"a\",", 2000);
        _cleanup_free_ char *ints = repeat("1,", 1100);
        args17 = format("%s", "");
        for (int i = 0; i < 17; i++) {
                char *s = format("%s%s\"%s\"", args17, i ? "," : "", arg4000);
                free(args17);
                args17 = s;
        }

        struct {
                Case c;
                char *body;
        } cases[] = {
                {{"10,000 nested arrays", NULL, 0, 400, "invalid_json", ""},
                        format("%s%s", deep_open, deep_close)},
                {{"10,000 nested arrays in a field", NULL, 0, 400, "invalid_json", ""},
                        format(REQ(", \"args\": %s%s"), deep_open, deep_close)},
                {{"10,000 nested objects", NULL, 0, 400, "invalid_json", ""},
                        format("%s1%s", obj_open, obj_close)},
                {{"10,000 unclosed brackets", NULL, 0, 400, "invalid_json", ""}, format("%s", deep_open)},
                {{"33 levels", NULL, 0, 400, "invalid_json", ""},
                        format(REQ(", \"limits\": {\"x\": [%s%s]}"), d30_open, d30_close)},
                /* Exactly 32 levels parse; the unknown key is what is refused then. */
                {{"32 levels", NULL, 0, 422, "unknown_field", "limits.x"},
                        format(REQ(", \"limits\": {\"x\": [%s%s]}"), d29_open, d29_close)},
                {{"source over the cap", NULL, 0, 422, "too_large", "source_code"},
                        format("{\"language\": \"python\", \"source_code\": \"%s\"}", src_over)},
                {{"source of escapes over the cap", NULL, 0, 422, "too_large", "source_code"},
                        format("{\"language\": \"python\", \"source_code\": \"%s\"}", lf_over)},
                {{"stdin over the cap", NULL, 0, 422, "too_large", "stdin"},
                        format(REQ(", \"stdin\": \"%s\""), in_over)},
                {{"expected_output over the cap", NULL, 0, 422, "too_large", "expected_output"},
                        format(REQ(", \"expected_output\": \"%s\""), in_over)},
                {{"65 args", NULL, 0, 422, "too_large", "args"},
                        format(REQ(", \"args\": [%s\"b\"]"), args65)},
                {{"2001 args", NULL, 0, 400, "invalid_json", ""},
                        format(REQ(", \"args\": [%s\"b\"]"), args2000)},
                {{"1101 values in an unknown field", NULL, 0, 400, "invalid_json", ""},
                        format(REQ(", \"x\": [%s1]"), ints)},
                {{"arg over 4096 bytes", NULL, 0, 422, "too_large", "args[0]"},
                        format(REQ(", \"args\": [\"%s\"]"), arg_over)},
                {{"args over 64 KiB in all", NULL, 0, 422, "too_large", "args"},
                        format(REQ(", \"args\": [%s]"), args17)},
                {{"max source, then a bad field", NULL, 0, 422, "invalid_type", "stdin"},
                        format("{\"language\": \"python\", \"source_code\": \"%s\", \"stdin\": 1}",
                                src_max)},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                cases[i].c.body = cases[i].body;
                check_case(&cases[i].c);
                free(cases[i].body);
        }
}

static void test_literal_cases(void)
{
        for (size_t i = 0; i < ELEMENTSOF(literal_cases); i++)
                check_case(&literal_cases[i]);
}

/* Parses body, which must be accepted. Returns 0 and fills *req. */
static int parse_ok(const char *name, const char *body, size_t len, SubmissionRequest *req)
{
        RequestError err = {};
        *req = (SubmissionRequest)SUBMISSION_REQUEST_NULL;
        int r = submission_request_parse(body, len ? len : strlen(body), &cfg, langs, req, &err);
        CHECK(r == 0, "%s: refused %d %s field \"%s\": %s", name, err.http_status, err.code ? err.code : "-",
                err.field, err.message);
        return r;
}

static void test_full(void)
{
        const char *body =
                "{\"language\": \"python\", \"source_code\": \"print(input())\\n\", \"stdin\": "
                "\"h\xc3\xa9llo\\n\","
                " \"args\": [\"a\", \"b c\", \"\"], \"expected_output\": \"h\xc3\xa9llo\\n\", \"limits\":"
                " {\"cpu_time\": 2.5, \"wall_time\": 5, \"memory\": 131072, \"pids\": 32, \"output\": 256}}";
        SubmissionRequest req;
        if (parse_ok("full", body, 0, &req) < 0)
                return;
        CHECK(req.language && strcmp(req.language->id, "python") == 0, "language");
        CHECK(req.language == language_registry_find(langs, "python"),
                "language borrowed from the registry");
        CHECK(req.source_len == 15 && strcmp(req.source, "print(input())\n") == 0, "source");
        CHECK(req.stdin_len == 7 && strcmp(req.stdin_data, "h\xc3\xa9llo\n") == 0, "stdin");
        CHECK(req.args && strcmp(req.args[0], "a") == 0 && strcmp(req.args[1], "b c") == 0 && req.args[2] &&
                        req.args[2][0] == '\0' && !req.args[3],
                "args");
        CHECK(req.expected_len == 7 && strcmp(req.expected_output, "h\xc3\xa9llo\n") == 0,
                "expected_output");
        CHECK(req.limits.cpu_ms == 2500 && req.limits.wall_ms == 5000 && req.limits.memory_kb == 131072 &&
                        req.limits.pids == 32 && req.limits.output_kb == 256,
                "limits %llu %llu %llu %llu %llu", (unsigned long long)req.limits.cpu_ms,
                (unsigned long long)req.limits.wall_ms, (unsigned long long)req.limits.memory_kb,
                (unsigned long long)req.limits.pids, (unsigned long long)req.limits.output_kb);
        CHECK(req.limits.fsize_kb == cfg.run_default.fsize_kb, "fsize from the defaults");
        CHECK(req.limits_set ==
                        (SUBMISSION_LIMIT_CPU_TIME | SUBMISSION_LIMIT_WALL_TIME | SUBMISSION_LIMIT_MEMORY |
                                SUBMISSION_LIMIT_PIDS | SUBMISSION_LIMIT_OUTPUT),
                "limits_set %#x", req.limits_set);

        json_auto_t *lj = submission_request_limits_to_json(&req);
        json_auto_t *want = json_pack("{s:f, s:f, s:I, s:I, s:I}", "cpu_time", 2.5, "wall_time", 5.0,
                "memory", (json_int_t)131072, "pids", (json_int_t)32, "output", (json_int_t)256);
        CHECK(json_equal(lj, want), "limits_to_json");
        CHECK(json_is_real(json_object_get(lj, "wall_time")) &&
                        json_is_integer(json_object_get(lj, "memory")),
                "seconds as numbers, sizes as integers");
        submission_request_deinit(&req);
        CHECK(!req.source && !req.args && !req.language, "deinit resets");
        submission_request_deinit(&req); /* twice is harmless */
}

static void test_defaults(void)
{
        SubmissionRequest req;
        if (parse_ok("minimal", REQ(""), 0, &req) < 0)
                return;
        CHECK(memcmp(&req.limits, &cfg.run_default, sizeof req.limits) == 0, "defaults");
        CHECK(req.limits_set == 0, "nothing set");
        CHECK(!req.stdin_data && req.stdin_len == 0 && !req.args && !req.expected_output &&
                        req.expected_len == 0,
                "optional fields absent");
        json_auto_t *lj = submission_request_limits_to_json(&req);
        json_auto_t *want = json_pack("{s:f, s:f, s:I, s:I, s:I}", "cpu_time", 5.0, "wall_time", 10.0,
                "memory", (json_int_t)262144, "pids", (json_int_t)64, "output", (json_int_t)1024);
        CHECK(json_equal(lj, want), "default limits_to_json");
        submission_request_deinit(&req);

        /* null is absent, everywhere optional. */
        if (parse_ok("nulls",
                    REQ(", \"stdin\": null, \"args\": null, \"expected_output\": null, \"limits\": null"), 0,
                    &req) == 0) {
                CHECK(!req.stdin_data && !req.args && !req.expected_output && req.limits_set == 0,
                        "nulls absent");
                submission_request_deinit(&req);
        }
        if (parse_ok("null limit", REQ(", \"limits\": {\"pids\": null, \"memory\": 8192}"), 0, &req) == 0) {
                CHECK(req.limits_set == SUBMISSION_LIMIT_MEMORY && req.limits.memory_kb == 8192 &&
                                req.limits.pids == cfg.run_default.pids,
                        "null limit is the default");
                submission_request_deinit(&req);
        }
        if (parse_ok("empty limits", REQ(", \"limits\": {}, \"stdin\": \"\", \"args\": []"), 0, &req) == 0) {
                CHECK(req.limits_set == 0 && req.stdin_data && req.stdin_len == 0, "empty stdin is present");
                CHECK(req.args && !req.args[0], "[] is an empty strv, not absent");
                submission_request_deinit(&req);
        }
}

/* Values on the edges of what is accepted. */
static void test_accepted_edges(void)
{
        static const struct {
                const char *limits;
                size_t offset;
                uint64_t want;
        } edges[] = {
                {"{\"cpu_time\": 0.01}", offsetof(Limits, cpu_ms), 10},
                {"{\"cpu_time\": 0.0095}", offsetof(Limits, cpu_ms), 10},
                {"{\"cpu_time\": 3}", offsetof(Limits, cpu_ms), 3000},
                {"{\"cpu_time\": 0.3333}", offsetof(Limits, cpu_ms), 333},
                {"{\"cpu_time\": 20}", offsetof(Limits, cpu_ms), 20000},
                {"{\"cpu_time\": 20.0004}", offsetof(Limits, cpu_ms), 20000},
                {"{\"cpu_time\": 2e1}", offsetof(Limits, cpu_ms), 20000},
                {"{\"wall_time\": 120}", offsetof(Limits, wall_ms), 120000},
                {"{\"wall_time\": 0.5}", offsetof(Limits, wall_ms), 500},
                {"{\"memory\": 4096}", offsetof(Limits, memory_kb), 4096},
                {"{\"memory\": 2097152}", offsetof(Limits, memory_kb), 2097152},
                {"{\"pids\": 1}", offsetof(Limits, pids), 1},
                {"{\"pids\": 256}", offsetof(Limits, pids), 256},
                {"{\"output\": 1}", offsetof(Limits, output_kb), 1},
                {"{\"output\": 65536}", offsetof(Limits, output_kb), 65536},
        };
        for (size_t i = 0; i < ELEMENTSOF(edges); i++) {
                _cleanup_free_ char *body = format(REQ(", \"limits\": %s"), edges[i].limits);
                SubmissionRequest req;
                if (parse_ok(edges[i].limits, body, 0, &req) < 0)
                        continue;
                uint64_t got = *(uint64_t *)((char *)&req.limits + edges[i].offset);
                CHECK(got == edges[i].want, "%s: %llu, want %llu", edges[i].limits, (unsigned long long)got,
                        (unsigned long long)edges[i].want);
                submission_request_deinit(&req);
        }

        /* Sizes exactly at their caps; brackets inside strings are not nesting. */
        _cleanup_free_ char *src = repeat("x", 4096), *in = repeat("y", 2048), *arg = repeat("a", 4096);
        _cleanup_free_ char *brackets = repeat("[{,", 1300), *args64 = repeat("\"a\",", 63);
        _cleanup_free_ char *args16 = repeat("\"aaaaaaaaaaaaaaaa\",", 0);
        for (int i = 0; i < 16; i++) {
                char *s = format("%s%s\"%s\"", args16, i ? "," : "", arg);
                free(args16);
                args16 = s;
        }
        struct {
                const char *name;
                char *body;
        } ok[] = {
                {"source at the cap", format("{\"language\": \"python\", \"source_code\": \"%s\"}", src)},
                {"stdin and expected_output at the cap",
                        format(REQ(", \"stdin\": \"%s\", \"expected_output\": \"%s\""), in, in)},
                {"64 args", format(REQ(", \"args\": [%s\"b\"]"), args64)},
                {"arg of 4096 bytes", format(REQ(", \"args\": [\"%s\"]"), arg)},
                {"args of 64 KiB in all", format(REQ(", \"args\": [%s]"), args16)},
                {"brackets in strings",
                        format("{\"language\": \"python\", \"source_code\": \"%s\\\"]]]\"}", brackets)},
                {"unicode escapes", format("{\"language\": \"python\", \"source_code\": "
                                           "\"print('\\u00e9\\ud83d\\ude00')\"}")},
                {"keys in any order", format("{\"limits\": {\"output\": 2}, \"source_code\": \"x\", "
                                             "\"language\": \"c\"}")},
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                SubmissionRequest req;
                if (parse_ok(ok[i].name, ok[i].body, 0, &req) == 0)
                        submission_request_deinit(&req);
                free(ok[i].body);
        }

        /* len bounds the body: what follows is not read. */
        const char buf[] = REQ("") "garbage\xff";
        SubmissionRequest req;
        if (parse_ok("not NUL-terminated", buf, strlen(REQ("")), &req) == 0)
                submission_request_deinit(&req);

        /* Every shipped language is accepted by its id. */
        for (size_t i = 0; i < langs->n_languages; i++) {
                _cleanup_free_ char *body =
                        format("{\"language\": \"%s\", \"source_code\": \"x\"}", langs->languages[i].id);
                if (parse_ok(langs->languages[i].id, body, 0, &req) == 0) {
                        CHECK(req.language == &langs->languages[i], "%s found", langs->languages[i].id);
                        submission_request_deinit(&req);
                }
        }
}

static void expect_message(const char *body, const char *want)
{
        SubmissionRequest req = SUBMISSION_REQUEST_NULL;
        RequestError err = {};
        int r = submission_request_parse(body, strlen(body), &cfg, langs, &req, &err);
        CHECK(r == -EINVAL && strstr(err.message, want), "message \"%s\", want \"%s\"", err.message, want);
        CHECK(clean_text(err.message) && clean_text(err.field), "clean message \"%s\"", err.message);
        if (r == 0)
                submission_request_deinit(&req);
}

static void test_messages(void)
{
        expect_message(REQ(", \"limits\": {\"cpu_time\": 0}"),
                "limits.cpu_time must be between 0.01 and 20 seconds");
        expect_message(REQ(", \"limits\": {\"wall_time\": 999}"),
                "limits.wall_time must be between 0.01 and 120 seconds");
        expect_message(
                REQ(", \"limits\": {\"memory\": 1}"), "limits.memory must be between 4096 and 2097152 KiB");
        expect_message(REQ(", \"limits\": {\"pids\": 1000}"), "limits.pids must be between 1 and 256");
        expect_message(
                REQ(", \"limits\": {\"memory\": true}"), "limits.memory must be an integer, not a boolean");
        expect_message(
                REQ(", \"limits\": {\"cpu_time\": \"1\"}"), "limits.cpu_time must be a number of seconds");
        expect_message(REQ(", \"args\": [1]"), "args[0] must be a string, not an integer");
        expect_message("[]", "must be a JSON object, not an array");
        expect_message(
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested too deeply (more than 32 levels)");
        expect_message("{\"language\": }", "line 1, column 14");
        expect_message("{\"language\": \"cobol\", \"source_code\": \"x\"}", "unknown language \"cobol\"");
        expect_message(REQ(", \"stdin\": \"\xff\""), "not valid UTF-8");
        expect_message(REQ(", \"priority\": 1"), "unknown field \"priority\"");
        expect_message("{\"source_code\": \"x\"}", "language is required");

        /* A hostile language id: quoted, escaped, cut to 64 characters on a character boundary. */
        _cleanup_free_ char *long_id = repeat("\xc3\xbc", 100);
        _cleanup_free_ char *body =
                format("{\"language\": \"\\u001b[2J\\\"%s\", \"source_code\": \"x\"}", long_id);
        SubmissionRequest req = SUBMISSION_REQUEST_NULL;
        RequestError err = {};
        CHECK(submission_request_parse(body, strlen(body), &cfg, langs, &req, &err) == -EINVAL,
                "hostile id");
        CHECK(strstr(err.message, "unknown language \"\\x1b[2J\\\"\xc3\xbc") && strstr(err.message, "...\""),
                "escaped and cut: %s", err.message);
        CHECK(clean_text(err.message) && strlen(err.message) < 120, "bounded: %zu", strlen(err.message));
}

/* The minima in submission-request.c are the config table's: the request accepts exactly what an
 * operator could configure. */
static void test_minima_agree(void)
{
        static const struct {
                const char *env, *below, *at;
                const char *limit_below, *limit_at;
        } minima[] = {
                {"SENTINEL_CPU_TIME_MS", "9", "10", "{\"cpu_time\": 0.009}", "{\"cpu_time\": 0.01}"},
                {"SENTINEL_WALL_TIME_MS", "9", "10", "{\"wall_time\": 0.009}", "{\"wall_time\": 0.01}"},
                {"SENTINEL_MEMORY_KB", "4095", "4096", "{\"memory\": 4095}", "{\"memory\": 4096}"},
                {"SENTINEL_PIDS", "0", "1", "{\"pids\": 0}", "{\"pids\": 1}"},
                {"SENTINEL_OUTPUT_KB", "0", "1", "{\"output\": 0}", "{\"output\": 1}"},
        };
        for (size_t i = 0; i < ELEMENTSOF(minima); i++) {
                Config c = CONFIG_NULL;
                char err[256];
                extra_env[0] = minima[i].env;
                extra_env[1] = minima[i].below;
                CHECK(config_load_from(&c, fake_getenv, err, sizeof err) == -EINVAL, "%s=%s accepted",
                        minima[i].env, minima[i].below);
                extra_env[1] = minima[i].at;
                CHECK(config_load_from(&c, fake_getenv, err, sizeof err) == 0, "%s=%s: %s", minima[i].env,
                        minima[i].at, err);
                config_deinit(&c);
                extra_env[0] = extra_env[1] = NULL;

                _cleanup_free_ char *below = format(REQ(", \"limits\": %s"), minima[i].limit_below);
                _cleanup_free_ char *at = format(REQ(", \"limits\": %s"), minima[i].limit_at);
                SubmissionRequest req = SUBMISSION_REQUEST_NULL;
                RequestError rerr = {};
                CHECK(submission_request_parse(below, strlen(below), &cfg, langs, &req, &rerr) == -EINVAL &&
                                strcmp(rerr.code, "limit_out_of_range") == 0,
                        "%s accepted", minima[i].limit_below);
                if (parse_ok(minima[i].limit_at, at, 0, &req) == 0)
                        submission_request_deinit(&req);
        }
}

/* limits_to_json is what the worker reads back (worker/consumer.c rounds seconds to ms): the
 * round trip keeps every ms. */
static void test_limits_round_trip(void)
{
        static const uint64_t ms[] = {10, 11, 333, 999, 1001, 2500, 12345, 19999, 20000};
        for (size_t i = 0; i < ELEMENTSOF(ms); i++) {
                SubmissionRequest req = SUBMISSION_REQUEST_NULL;
                req.limits = cfg.run_default;
                req.limits.cpu_ms = ms[i];
                json_auto_t *lj = submission_request_limits_to_json(&req);
                _cleanup_free_ char *text = lj ? json_dumps(lj, JSON_COMPACT) : NULL;
                json_auto_t *back = text ? json_loads(text, 0, NULL) : NULL;
                double cpu = json_number_value(json_object_get(back, "cpu_time"));
                CHECK((uint64_t)(cpu * 1000 + 0.5) == ms[i], "%llu ms came back as %s",
                        (unsigned long long)ms[i], text ? text : "(null)");

                /* And a request for that many seconds asks for that many ms. */
                _cleanup_free_ char *body = format(REQ(", \"limits\": {\"cpu_time\": %.17g}"), cpu);
                SubmissionRequest again;
                if (parse_ok(body, body, 0, &again) == 0) {
                        CHECK(again.limits.cpu_ms == ms[i], "%s: %llu ms", body,
                                (unsigned long long)again.limits.cpu_ms);
                        submission_request_deinit(&again);
                }
        }
}

int main(void)
{
        char err[512] = "";
        _cleanup_free_ char *path = NULL;
        if (config_load_from(&cfg, fake_getenv, err, sizeof err) < 0) {
                printf("config: %s\n", err);
                return 1;
        }
        if (asprintf(&path, "%s/sandbox-policies/languages.json", source_dir()) < 0 ||
                language_registry_from_file(path, &langs, err, sizeof err) < 0) {
                printf("%s: %s\n", path ? path : "languages.json", err);
                return 1;
        }

        test_literal_cases();
        test_generated_cases();
        test_full();
        test_defaults();
        test_accepted_edges();
        test_messages();
        test_minima_agree();
        test_limits_round_trip();

        langs = language_registry_free(langs);
        config_deinit(&cfg);
        return test_summary();
}
