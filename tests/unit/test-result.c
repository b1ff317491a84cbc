/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: verdicts, bounded output buffers and the result record (common/result.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test-util.h"
#include "cleanup.h"
#include "result.h"

static void test_verdicts(void)
{
        for (int i = 0; i < _VERDICT_MAX; i++) {
                const char *s = verdict_to_string((Verdict)i);
                Verdict v = _VERDICT_MAX;
                CHECK(s && *s, "verdict %d has no name", i);
                CHECK(verdict_from_string(s, &v) == 0 && v == (Verdict)i, "%s does not round trip", s);
                for (int k = 0; k < i; k++)
                        CHECK(strcmp(s, verdict_to_string((Verdict)k)) != 0, "%s named twice", s);
        }
        CHECK(strcmp(verdict_to_string(VERDICT_ACCEPTED), "ACCEPTED") == 0, "ACCEPTED");
        CHECK(strcmp(verdict_to_string(VERDICT_TIME_LIMIT_EXCEEDED), "TIME_LIMIT_EXCEEDED") == 0, "TLE");
        CHECK(strcmp(verdict_to_string(_VERDICT_MAX), "INTERNAL_ERROR") == 0, "out of range");
        CHECK(strcmp(verdict_to_string((Verdict)-1), "INTERNAL_ERROR") == 0, "negative");

        Verdict v = VERDICT_ACCEPTED;
        CHECK(verdict_from_string("accepted", &v) == -EINVAL, "names are case-sensitive");
        CHECK(verdict_from_string("", &v) == -EINVAL, "empty name");
        CHECK(verdict_from_string("ACCEPTED ", &v) == -EINVAL, "trailing space");
        CHECK(v == VERDICT_ACCEPTED, "ret untouched on failure");
}

static void test_outbuf(void)
{
        OutBuf b = OUTBUF_NULL;
        CHECK(outbuf_init(&b, 10) == 0, "init");
        CHECK(b.len == 0 && b.total == 0 && !b.truncated, "empty");
        CHECK(!outbuf_append(&b, "hello", 5), "fits");
        CHECK(b.len == 5 && memcmp(b.data, "hello", 5) == 0 && b.data[5] == '\0', "content");
        CHECK(!outbuf_append(&b, "", 0), "empty append");
        CHECK(outbuf_append(&b, " world!", 7), "overflow reported");
        CHECK(b.len == 10 && memcmp(b.data, "hello worl", 10) == 0 && b.data[10] == '\0', "kept the head: %.*s",
                (int)b.len, b.data);
        CHECK(b.total == 12 && b.truncated, "total %llu", (unsigned long long)b.total);
        CHECK(b.alloc <= b.cap + 1, "alloc %zu beyond cap", b.alloc);
        CHECK(outbuf_append(&b, "x", 1) && b.len == 10 && b.total == 13, "full buffer counts on");
        outbuf_deinit(&b);
        CHECK(!b.data && b.len == 0 && b.total == 0, "deinit");

        /* Many small appends across the growth steps, and one large one. */
        outbuf_init(&b, 100000);
        char chunk[1000];
        memset(chunk, 'z', sizeof chunk);
        bool over = false;
        for (int i = 0; i < 150; i++) {
                over |= outbuf_append(&b, chunk, sizeof chunk);
                CHECK(b.len <= b.cap && b.alloc <= b.cap + 1, "step %d: len %zu alloc %zu", i, b.len, b.alloc);
        }
        CHECK(over && b.truncated && b.len == 100000 && b.total == 150000, "len %zu total %llu", b.len,
                (unsigned long long)b.total);
        outbuf_deinit(&b);

        outbuf_init(&b, 0);
        CHECK(outbuf_append(&b, "a", 1) && b.len == 0 && b.total == 1 && b.truncated, "cap 0");
        outbuf_deinit(&b);

        outbuf_init(&b, 3);
        CHECK(!outbuf_append(&b, "abc", 3) && !b.truncated, "exactly cap is not truncated");
        outbuf_deinit(&b);
}

static void fill_run(RunResult *r)
{
        run_result_init(r);
        r->status = VERDICT_ACCEPTED;
        r->run.verdict = VERDICT_ACCEPTED;
        r->run.exit_code = 0;
        r->run.cpu_us = 12000;
        r->run.wall_us = 15000;
        r->run.memory_kb = 10035;
        outbuf_init(&r->run.out, 1024);
        outbuf_init(&r->run.err, 4);
        outbuf_append(&r->run.out, "OK\n", 3);
        outbuf_append(&r->run.err, "warning", 7);
}

static bool json_near(json_t *j, double want)
{
        return json_is_number(j) && fabs(json_number_value(j) - want) < 1e-9;
}

static void test_to_json(void)
{
        RunResult r;
        fill_run(&r);
        json_auto_t *j = run_result_to_json(&r);
        CHECK(json_is_object(j), "not an object");
        CHECK(strcmp(json_string_value(json_object_get(j, "status")), "ACCEPTED") == 0, "status");
        CHECK(json_integer_value(json_object_get(j, "exit_code")) == 0 && json_is_integer(json_object_get(j, "exit_code")),
                "exit_code");
        CHECK(json_is_null(json_object_get(j, "signal")), "signal null on exit");
        CHECK(json_near(json_object_get(j, "cpu_time"), 0.012), "cpu_time %g",
                json_number_value(json_object_get(j, "cpu_time")));
        CHECK(json_near(json_object_get(j, "wall_time"), 0.015), "wall_time");
        CHECK(json_integer_value(json_object_get(j, "memory")) == 10035, "memory in KB");
        CHECK(strcmp(json_string_value(json_object_get(j, "stdout")), "OK\n") == 0, "stdout");
        CHECK(strcmp(json_string_value(json_object_get(j, "stderr")), "warn") == 0, "stderr kept to its cap");
        CHECK(json_is_null(json_object_get(j, "compile_output")), "compile_output null without a compile step");
        CHECK(!json_object_get(j, "compile"), "no compile object without a compile step");
        CHECK(json_is_false(json_object_get(j, "stdout_truncated")), "stdout_truncated");
        CHECK(json_is_true(json_object_get(j, "stderr_truncated")), "stderr_truncated");
        CHECK(json_is_false(json_object_get(j, "compile_output_truncated")), "compile_output_truncated");
        CHECK(json_is_string(json_object_get(j, "message")), "message");
        run_result_deinit(&r);

        /* Killed by a signal: exit_code null, signal set. */
        fill_run(&r);
        r.status = VERDICT_RUNTIME_ERROR;
        r.run.exit_code = -1;
        r.run.signal = 11;
        json_auto_t *k = run_result_to_json(&r);
        CHECK(json_is_null(json_object_get(k, "exit_code")), "exit_code null when signalled");
        CHECK(json_integer_value(json_object_get(k, "signal")) == 11, "signal");
        CHECK(strcmp(json_string_value(json_object_get(k, "status")), "RUNTIME_ERROR") == 0, "status RE");
        run_result_deinit(&r);

        /* Compile error: the compiler's output, the run's fields empty. */
        fill_run(&r);
        r.has_compile = true;
        r.status = VERDICT_COMPILE_ERROR;
        r.compile.verdict = VERDICT_RUNTIME_ERROR;
        r.compile.exit_code = 1;
        outbuf_init(&r.compile.out, 64);
        outbuf_init(&r.compile.err, 8);
        outbuf_append(&r.compile.out, "out;", 4);
        outbuf_append(&r.compile.err, "main.c:1: error", 15);
        json_auto_t *c = run_result_to_json(&r);
        CHECK(strcmp(json_string_value(json_object_get(c, "compile_output")), "out;main.c:1") == 0,
                "compile_output \"%s\"", json_string_value(json_object_get(c, "compile_output")));
        CHECK(json_is_true(json_object_get(c, "compile_output_truncated")), "compile_output_truncated");
        CHECK(json_is_null(json_object_get(c, "exit_code")), "no run exit_code after a compile error");
        CHECK(strcmp(json_string_value(json_object_get(c, "stdout")), "") == 0, "no run stdout");
        json_t *cs = json_object_get(c, "compile");
        CHECK(json_is_object(cs) && json_integer_value(json_object_get(cs, "exit_code")) == 1, "compile.exit_code");
        run_result_deinit(&r);

        /* Output that is not UTF-8 still makes valid JSON. */
        fill_run(&r);
        outbuf_append(&r.run.out, "\xFF\0", 2);
        json_auto_t *u = run_result_to_json(&r);
        CHECK(strcmp(json_string_value(json_object_get(u, "stdout")), "OK\n\xEF\xBF\xBD\xEF\xBF\xBD") == 0,
                "lossy stdout");
        run_result_deinit(&r);

        /* Nothing printed at all. */
        run_result_init(&r);
        json_auto_t *e = run_result_to_json(&r);
        CHECK(e && strcmp(json_string_value(json_object_get(e, "stdout")), "") == 0, "empty stdout");
        CHECK(strcmp(json_string_value(json_object_get(e, "status")), "INTERNAL_ERROR") == 0, "init status");
        run_result_deinit(&r);
}

static void result_summary_cases(void)
{
        RunResult r;
        fill_run(&r);
        char buf[256];
        run_result_summary(&r, buf, sizeof buf);
        CHECK(strcmp(buf, "ACCEPTED  cpu 0.012 s  wall 0.015 s  mem 9.8 MB") == 0, "summary \"%s\"", buf);

        snprintf(r.message, sizeof r.message, "exited with 3");
        r.status = VERDICT_RUNTIME_ERROR;
        run_result_summary(&r, buf, sizeof buf);
        CHECK(strcmp(buf, "RUNTIME_ERROR  cpu 0.012 s  wall 0.015 s  mem 9.8 MB  (exited with 3)") == 0,
                "summary with message \"%s\"", buf);

        char small[12];
        run_result_summary(&r, small, sizeof small);
        CHECK(strlen(small) == sizeof small - 1 && strncmp(small, "RUNTIME_ERR", 11) == 0, "truncated \"%s\"", small);
        run_result_deinit(&r);
}

int main(void)
{
        test_verdicts();
        test_outbuf();
        test_to_json();
        result_summary_cases();
        return test_summary();
}
