/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's consumer: takes jobs from RabbitMQ, claims them in PostgreSQL, runs them through the
 * executor, streams their events to Redis, commits the result, then acknowledges. One thread, one
 * poll loop: AMQP, the executor's socket and the signal fd. */
#pragma once

#include "config.h"
#include "executor.h"
#include "metrics.h"

typedef struct WorkerMetrics {
        MetricsRegistry *registry;
        Metric *executions;       /* sentinel_executions_total{language,status} */
        Metric *duration;         /* sentinel_execution_duration_seconds{language} */
        Metric *queue_wait;       /* sentinel_queue_wait_seconds */
        Metric *active;           /* sentinel_workers_active */
        Metric *sandbox_failures; /* sentinel_sandbox_failures_total */
} WorkerMetrics;

/* Runs until SIGTERM/SIGINT arrives on signal_fd, then drains: stops consuming, finishes the jobs in
 * flight within cfg->shutdown_grace_ms, and returns 0. Returns a negative errno when the executor
 * died (the worker then exits and its supervisor restarts it). */
int consumer_run(const Config *cfg, Executor **exec, WorkerMetrics *m, int signal_fd);

/* The WRONG_ANSWER rule: trailing white space at the end of each line and trailing empty lines are
 * ignored; everything else must match byte for byte. */
bool output_matches(const char *out, size_t out_len, const char *expected, size_t expected_len);
