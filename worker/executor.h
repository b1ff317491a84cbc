/* SPDX-License-Identifier: Apache-2.0 */
/* The executor: the worker's sandbox side, in a process of its own.
 *
 * sentinel-worker is multi-threaded (AMQP, PostgreSQL, Redis, metrics); sandboxes are never cloned
 * from such a process. So the worker calls executor_start() before any thread exists: it forks a
 * single-threaded child that owns the Launcher and runs jobs with job_start(), and talks to it over
 * a SOCK_SEQPACKET socket (worker/executor-proto.h). Payloads travel in sealed memfds.
 *
 * Every accepted job gets exactly one DONE event while the child lives: a failure to start, a
 * malformed request or a full queue is an INTERNAL_ERROR verdict, never a lost job. When the child
 * dies, executor_next_event() returns -EPIPE after the events it sent before dying: the jobs
 * without a DONE are then the caller's to fail or retry.
 *
 * Restarting: executor_free() and executor_start() again work (the new launcher removes the dead
 * child's slot cgroups as stale). But a fork from a multi-threaded process may only do
 * async-signal-safe work, and the executor's child does far more: a worker that already started
 * its threads should exit and be restarted by its supervisor instead (worker/consumer.c does). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "result.h"
#include "runner.h"

#define EXEC_TAG_MAX 64

typedef struct Executor Executor;

typedef struct ExecRequest {
        const char *tag;          /* the caller's job id, echoed in every event; <= EXEC_TAG_MAX bytes */
        const char *language;     /* a language id from the registry */
        const char *source;
        size_t source_len;
        const char *stdin_data;   /* may be NULL */
        size_t stdin_len;
        char *const *args;        /* NULL-terminated; may be NULL */
        Limits limits;            /* run limits within the operator's maxima; a field 0: the default */
} ExecRequest;

typedef enum ExecEventType {
        EXEC_EVENT_PHASE,  /* compiling or running */
        EXEC_EVENT_OUTPUT, /* a chunk of the run step's stdout (1) or stderr (2) */
        EXEC_EVENT_DONE,   /* the verdict: run_result_to_json() */
} ExecEventType;

typedef struct ExecEvent {
        ExecEventType type;
        char tag[EXEC_TAG_MAX + 1];
        JobPhase phase;      /* PHASE */
        int stream;          /* OUTPUT: 1 or 2 */
        char *data;          /* OUTPUT: owned, NUL-terminated after len bytes */
        size_t len;
        json_t *result;      /* DONE: owned; the same fields as sentinel-run --json */
        bool output_dropped; /* DONE: some OUTPUT chunks of this job were dropped (the worker read too
                              * slowly); the result still holds all the output kept */
} ExecEvent;

/* Forks the executor with `slots` sandboxes (0: cfg->slots, or one per CPU); call before any
 * thread starts, from the thread that lives as long as the process (the child's parent-death
 * signal follows the forking thread). cfg and policy_dir are read in the child only. Returns 0
 * once the child's launcher is up, or a negative errno with a message in errbuf (the policy or the
 * launcher could not load: -EPERM, -ENOENT, -EOPNOTSUPP, -ENODEV as launcher_new()).
 *
 * The child stops when the socket closes (executor_free(), or the worker died: then SIGKILL), or
 * on SIGTERM/SIGINT after cfg->shutdown_grace_ms (+2 s) during which it keeps serving: the worker
 * drains on the same signal. Stopping answers what is queued, cancels what runs (each job gets its
 * DONE while the socket is open), waits for it (at most 5 s), frees the launcher and exits. */
int executor_start(const Config *cfg, const char *policy_dir, unsigned slots, Executor **ret, char *errbuf,
        size_t errlen);
/* Closes the socket: the child cancels what runs, cleans up (launcher_free) and exits; then reaps
 * it (SIGKILL after 10 s). No other call may run concurrently. Accepts NULL; returns NULL. */
Executor *executor_free(Executor *e);
unsigned executor_slots(const Executor *e);
/* The child's pid (tests, logs). */
pid_t executor_child_pid(const Executor *e);

/* Hands a job to the executor. Thread-safe; waits at most a few seconds for socket space. Every
 * accepted tag later gets exactly one DONE event. Returns 0, -EINVAL (no tag or language, or
 * either too long, or over EXEC_ARGS_MAX args), -E2BIG (args too long), -EPIPE (the child is gone),
 * -ETIMEDOUT (the child did not take it) or -errno. */
int executor_submit(Executor *e, const ExecRequest *req);

/* The fd to poll for events (POLLIN). */
int executor_fd(const Executor *e);
/* Takes the next event, waiting up to timeout_ms (-1: forever). One reader at a time; may run
 * concurrently with executor_submit(). Returns 0 and fills *ret (free with exec_event_deinit()),
 * -EAGAIN when there is none yet, -EPIPE when the child is gone (every later call too), or
 * -EPROTO / -ENOMEM (an event was lost: treat the executor as dead). */
int executor_next_event(Executor *e, ExecEvent *ret, int timeout_ms);
void exec_event_deinit(ExecEvent *ev);
