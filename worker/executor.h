/* SPDX-License-Identifier: Apache-2.0 */
/* The executor: the worker's sandbox side in a process of its own.
 *
 * sentinel-worker is multi-threaded (AMQP, PostgreSQL, Redis, metrics); sandboxes are never cloned
 * from such a process. So the worker calls executor_start() before any thread exists: it forks a
 * single-threaded child that owns the Launcher and runs jobs with job_start(), and talks to it
 * over a SOCK_SEQPACKET socket. Payloads (source, stdin, results) travel in sealed memfds. */
#pragma once

#include <jansson.h>
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
        Limits limits;            /* run limits, already within the operator's maxima */
} ExecRequest;

typedef enum ExecEventType {
        EXEC_EVENT_PHASE,  /* compiling or running */
        EXEC_EVENT_OUTPUT, /* a chunk of the run step's stdout (1) or stderr (2) */
        EXEC_EVENT_DONE,   /* the verdict: run_result_to_json() */
} ExecEventType;

typedef struct ExecEvent {
        ExecEventType type;
        char tag[EXEC_TAG_MAX + 1];
        JobPhase phase;
        int stream;
        char *data; /* OUTPUT; owned */
        size_t len;
        json_t *result; /* DONE; owned */
} ExecEvent;

/* Forks the executor with `slots` sandboxes; call before any thread starts. Returns 0, or a
 * negative errno with a message in errbuf (the launcher could not start, for example). */
int executor_start(const Config *cfg, const char *policy_dir, unsigned slots, Executor **ret, char *errbuf,
        size_t errlen);
/* Closes the socket: the child cancels what runs, cleans up and exits; then reaps it. Accepts NULL. */
Executor *executor_free(Executor *e);
unsigned executor_slots(const Executor *e);
pid_t executor_child_pid(const Executor *e);

/* Hands a job to the executor. Every accepted tag later gets exactly one DONE event (a failure to
 * start is an INTERNAL_ERROR verdict). Returns 0 or a negative errno (-EPIPE: the child is gone). */
int executor_submit(Executor *e, const ExecRequest *req);

/* The fd to poll for events. */
int executor_fd(const Executor *e);
/* Takes the next event, waiting up to timeout_ms. Returns 0, -EAGAIN when there is none, or -EPIPE
 * when the child died. */
int executor_next_event(Executor *e, ExecEvent *ret, int timeout_ms);
void exec_event_deinit(ExecEvent *ev);
