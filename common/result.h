/* SPDX-License-Identifier: Apache-2.0 */
/* The result/verdict model: what a run produced and how it ended. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum Verdict {
        VERDICT_ACCEPTED,
        VERDICT_COMPILE_ERROR,
        VERDICT_RUNTIME_ERROR,
        VERDICT_TIME_LIMIT_EXCEEDED,
        VERDICT_MEMORY_LIMIT_EXCEEDED,
        VERDICT_OUTPUT_LIMIT_EXCEEDED,
        VERDICT_SECURITY_VIOLATION,
        VERDICT_INTERNAL_ERROR,
        _VERDICT_MAX,
} Verdict;

const char *verdict_to_string(Verdict v);
/* Returns 0 and sets *ret, or -EINVAL for an unknown name. */
int verdict_from_string(const char *s, Verdict *ret);

/* Resource limits of one sandboxed step. Times in milliseconds, sizes in KiB. */
typedef struct Limits {
        uint64_t cpu_ms;
        uint64_t wall_ms;
        uint64_t memory_kb;
        uint64_t pids;
        uint64_t output_kb; /* per stream */
        uint64_t fsize_kb;  /* largest file the program may write */
} Limits;

/* A bounded byte buffer: keeps at most `cap` bytes, counts the rest. */
typedef struct OutBuf {
        char *data;
        size_t len;
        size_t alloc; /* bytes allocated for data */
        size_t cap;   /* most bytes kept */
        uint64_t total; /* bytes offered, kept or not */
        bool truncated;
} OutBuf;

#define OUTBUF_NULL {}
int outbuf_init(OutBuf *b, size_t cap);
/* Appends what fits; returns true when the data did not all fit (now truncated). */
bool outbuf_append(OutBuf *b, const void *data, size_t len);
void outbuf_deinit(OutBuf *b);

/* How one sandboxed step ended, as measured by the supervisor. */
typedef struct StepResult {
        Verdict verdict;
        int exit_code; /* -1 when killed by a signal */
        int signal;    /* 0 when exited */
        uint64_t cpu_us;
        uint64_t wall_us;
        uint64_t memory_kb; /* peak of the whole cgroup */
        bool oom_killed;
        bool killed_by_supervisor;
        char message[320];
        OutBuf out; /* stdout */
        OutBuf err; /* stderr */
} StepResult;

void step_result_init(StepResult *r);
void step_result_deinit(StepResult *r);

/* The whole run: an optional compile step, then the run step. */
typedef struct RunResult {
        Verdict status;
        StepResult compile; /* out holds compile output; valid when has_compile */
        bool has_compile;
        StepResult run;
        char message[400];
} RunResult;

void run_result_init(RunResult *r);
void run_result_deinit(RunResult *r);

/* JSON object: status, exit_code, signal, cpu_time, wall_time, memory, stdout, stderr,
 * compile_output, message, stdout_truncated, stderr_truncated, compile_output_truncated, ...
 * Caller owns the reference. Returns NULL on OOM. */
json_t *run_result_to_json(const RunResult *r);
/* One line: "ACCEPTED  cpu 0.012 s  wall 0.015 s  mem 9.8 MB". Writes at most len bytes. */
void run_result_summary(const RunResult *r, char *buf, size_t len);
