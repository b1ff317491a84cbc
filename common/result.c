/* SPDX-License-Identifier: Apache-2.0 */
/* The result/verdict model. */
#include "result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json-util.h"

static const char *const verdict_names[_VERDICT_MAX] = {
        [VERDICT_ACCEPTED] = "ACCEPTED",
        [VERDICT_COMPILE_ERROR] = "COMPILE_ERROR",
        [VERDICT_RUNTIME_ERROR] = "RUNTIME_ERROR",
        [VERDICT_TIME_LIMIT_EXCEEDED] = "TIME_LIMIT_EXCEEDED",
        [VERDICT_MEMORY_LIMIT_EXCEEDED] = "MEMORY_LIMIT_EXCEEDED",
        [VERDICT_OUTPUT_LIMIT_EXCEEDED] = "OUTPUT_LIMIT_EXCEEDED",
        [VERDICT_SECURITY_VIOLATION] = "SECURITY_VIOLATION",
        [VERDICT_INTERNAL_ERROR] = "INTERNAL_ERROR",
};

const char *verdict_to_string(Verdict v)
{
        if ((unsigned)v >= _VERDICT_MAX)
                return "INTERNAL_ERROR";
        return verdict_names[v];
}

int verdict_from_string(const char *s, Verdict *ret)
{
        for (int i = 0; i < _VERDICT_MAX; i++)
                if (strcmp(s, verdict_names[i]) == 0) {
                        *ret = (Verdict)i;
                        return 0;
                }
        return -EINVAL;
}

int outbuf_init(OutBuf *b, size_t cap)
{
        /* Allocated lazily in outbuf_append: most programs print little. */
        *b = (OutBuf){.cap = cap};
        return 0;
}

bool outbuf_append(OutBuf *b, const void *data, size_t len)
{
        b->total += len;
        size_t n = MIN(b->cap - b->len, len);
        if (n > 0) {
                if (b->len + n + 1 > b->alloc) {
                        /* Grow geometrically, never past cap + 1 (room for a NUL). */
                        size_t want = MAX(b->alloc * 2, (size_t)4096);
                        want = MAX(want, b->len + n + 1);
                        want = MIN(want, b->cap + 1);
                        char *p = realloc(b->data, want);
                        if (!p) {
                                b->truncated = true;
                                return true;
                        }
                        b->data = p;
                        b->alloc = want;
                }
                memcpy(b->data + b->len, data, n);
                b->len += n;
                b->data[b->len] = '\0';
        }
        if (n < len)
                b->truncated = true;
        return n < len;
}

void outbuf_deinit(OutBuf *b)
{
        free(b->data);
        *b = (OutBuf){};
}

void step_result_init(StepResult *r)
{
        *r = (StepResult){.verdict = VERDICT_INTERNAL_ERROR, .exit_code = -1};
}

void step_result_deinit(StepResult *r)
{
        outbuf_deinit(&r->out);
        outbuf_deinit(&r->err);
}

void run_result_init(RunResult *r)
{
        *r = (RunResult){.status = VERDICT_INTERNAL_ERROR};
        step_result_init(&r->compile);
        step_result_init(&r->run);
}

void run_result_deinit(RunResult *r)
{
        step_result_deinit(&r->compile);
        step_result_deinit(&r->run);
}

static json_t *outbuf_to_json(const OutBuf *b)
{
        return json_string_lossy(b->data ? b->data : "", b->len);
}

json_t *run_result_to_json(const RunResult *r)
{
        const StepResult *s = &r->run;
        bool ran = !(r->has_compile && r->status == VERDICT_COMPILE_ERROR) &&
                !(r->has_compile && r->compile.verdict != VERDICT_ACCEPTED);

        /* compile output: stdout and stderr of the compiler, in that order. */
        json_t *compile_output = json_null();
        if (r->has_compile) {
                size_t n = r->compile.out.len + r->compile.err.len;
                _cleanup_free_ char *buf = malloc(n + 1);
                if (!buf)
                        return NULL;
                if (r->compile.out.len)
                        memcpy(buf, r->compile.out.data, r->compile.out.len);
                if (r->compile.err.len)
                        memcpy(buf + r->compile.out.len, r->compile.err.data, r->compile.err.len);
                compile_output = json_string_lossy(buf, n);
        }

        json_t *o = json_pack("{s:s, s:o, s:o, s:f, s:f, s:I, s:o, s:o, s:o, s:s, s:b, s:b, s:b, s:b}",
                "status", verdict_to_string(r->status),
                "exit_code", ran && s->signal == 0 && s->exit_code >= 0 ? json_integer(s->exit_code) : json_null(),
                "signal", ran && s->signal > 0 ? json_integer(s->signal) : json_null(),
                "cpu_time", ran ? (double)s->cpu_us / 1e6 : 0.0,
                "wall_time", ran ? (double)s->wall_us / 1e6 : 0.0,
                "memory", (json_int_t)(ran ? s->memory_kb : 0),
                "stdout", ran ? outbuf_to_json(&s->out) : json_string(""),
                "stderr", ran ? outbuf_to_json(&s->err) : json_string(""),
                "compile_output", compile_output,
                "message", r->message,
                "stdout_truncated", ran && s->out.truncated,
                "stderr_truncated", ran && s->err.truncated,
                "compile_output_truncated", r->has_compile && (r->compile.out.truncated || r->compile.err.truncated),
                "oom_killed", ran && s->oom_killed);
        if (!o)
                return NULL;
        if (r->has_compile) {
                json_t *c = json_pack("{s:s, s:f, s:f, s:I, s:o}",
                        "status", verdict_to_string(r->compile.verdict),
                        "cpu_time", (double)r->compile.cpu_us / 1e6,
                        "wall_time", (double)r->compile.wall_us / 1e6,
                        "memory", (json_int_t)r->compile.memory_kb,
                        "exit_code", r->compile.signal == 0 && r->compile.exit_code >= 0 ?
                                json_integer(r->compile.exit_code) : json_null());
                if (c)
                        json_object_set_new(o, "compile", c);
        }
        return o;
}

void run_result_summary(const RunResult *r, char *buf, size_t len)
{
        const StepResult *s = &r->run;
        int n = snprintf(buf, len, "%s  cpu %.3f s  wall %.3f s  mem %.1f MB", verdict_to_string(r->status),
                (double)s->cpu_us / 1e6, (double)s->wall_us / 1e6, (double)s->memory_kb / 1024.0);
        if (n > 0 && (size_t)n < len && r->message[0])
                snprintf(buf + n, len - (size_t)n, "  (%s)", r->message);
}
