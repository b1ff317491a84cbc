/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's consumer: RabbitMQ in, PostgreSQL and Redis out, the executor in between. */
#include "consumer.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include <jansson.h>

#include "amqp-util.h"
#include "cleanup.h"
#include "json-util.h"
#include "log.h"
#include "pg-util.h"
#include "redis-util.h"
#include "submission-sql.h"
#include "uuid.h"
#include "time-util.h"

#define RETRY_MS 500
#define FLUSH_MS 10
#define BATCH_BYTES (32 * 1024)
#define REDIS_PIPELINE_MAX 64 /* replies left unread at most */
#define PENDING_FINALS_MAX 10000

typedef enum JobState {
        JOB_CLAIMING,   /* delivered; not claimed yet: waiting for a free slot (or for PostgreSQL) */
        JOB_EXECUTING,  /* in the executor */
        JOB_COMMITTING, /* done; the result is not committed yet */
} JobState;

typedef struct Job {
        Uuid id;
        char ids[UUID_STRING_LEN + 1];
        char created_ms[24];
        uint64_t tag;      /* AMQP delivery tag */
        unsigned conn_gen; /* the AMQP connection the tag belongs to */
        bool redelivered;
        bool dead;         /* from the dead-letter queue */
        JobState state;
        char *language;
        char *expected;
        size_t expected_len;
        uint64_t started_ns;
        json_t *result;    /* the executor's result, once done */

        /* Output not yet sent to Redis: one stream at a time keeps the order. */
        int batch_stream;
        char *batch;
        size_t batch_len;
        uint64_t batch_since_ms;
        struct Job *next;
} Job;

typedef struct PendingFinal {
        char ids[UUID_STRING_LEN + 1];
        char *text;
        struct PendingFinal *next;
} PendingFinal;

typedef struct Consumer {
        const Config *cfg;
        Executor **exec;
        WorkerMetrics *m;
        int signal_fd;
        bool draining;

        amqp_connection_state_t amqp;
        unsigned conn_gen;
        uint64_t amqp_retry_ms;
        PGconn *pg;
        uint64_t pg_retry_ms;
        redisContext *redis;
        unsigned redis_pending; /* pipelined commands whose replies are not read yet */
        uint64_t redis_retry_ms;
        PendingFinal *finals, **finals_tail; /* final events waiting for Redis, oldest first */
        unsigned n_finals;

        Job *jobs;
        unsigned n_jobs;
} Consumer;

bool output_matches(const char *out, size_t out_len, const char *expected, size_t expected_len)
{
        /* Compare line by line with trailing white space cut, then require that whatever is left
         * on either side is only white space (trailing empty lines). */
        size_t i = 0, j = 0;
        for (;;) {
                size_t ie = i, je = j;
                while (ie < out_len && out[ie] != '\n')
                        ie++;
                while (je < expected_len && expected[je] != '\n')
                        je++;
                size_t il = ie, jl = je;
                while (il > i && (out[il - 1] == ' ' || out[il - 1] == '\t' || out[il - 1] == '\r'))
                        il--;
                while (jl > j && (expected[jl - 1] == ' ' || expected[jl - 1] == '\t' || expected[jl - 1] == '\r'))
                        jl--;
                if (il - i != jl - j || memcmp(out + i, expected + j, il - i) != 0)
                        break;
                i = ie < out_len ? ie + 1 : ie;
                j = je < expected_len ? je + 1 : je;
                if (i >= out_len && j >= expected_len)
                        return true;
                if (i >= out_len || j >= expected_len)
                        break;
        }
        for (; i < out_len; i++)
                if (out[i] != ' ' && out[i] != '\t' && out[i] != '\r' && out[i] != '\n')
                        return false;
        for (; j < expected_len; j++)
                if (expected[j] != ' ' && expected[j] != '\t' && expected[j] != '\r' && expected[j] != '\n')
                        return false;
        return true;
}

/* ---- connections ----------------------------------------------------------------------------- */

static void amqp_drop(Consumer *c)
{
        if (c->amqp) {
                amqp_util_close(c->amqp);
                c->amqp = NULL;
                log_warning("RabbitMQ connection closed; unacknowledged jobs return to the queue");
        }
        c->amqp_retry_ms = now_monotonic_ms() + RETRY_MS;
}

static int amqp_ensure(Consumer *c)
{
        if (c->amqp)
                return 0;
        if (c->draining || now_monotonic_ms() < c->amqp_retry_ms)
                return -EAGAIN;
        char err[512];
        amqp_connection_state_t a;
        int r = amqp_util_connect(c->cfg->amqp_url, 10, 5000, &a, err, sizeof err);
        if (r == 0)
                r = amqp_util_declare_topology(a, c->cfg, err, sizeof err);
        if (r == 0) {
                /* One delivery per slot by default. SENTINEL_PREFETCH above the slots keeps the
                 * next job at hand when a slot frees, so the slot does not idle through the
                 * finished job's commit and ack and the broker's next delivery (~15% more jobs/s
                 * here), at the price of holding jobs that another idle worker could run. A
                 * held job is claimed (RUNNING) only when a slot takes it. */
                unsigned slots = executor_slots(*c->exec);
                uint64_t prefetch = c->cfg->prefetch ? c->cfg->prefetch : slots;
                amqp_basic_qos(a, AMQP_CHANNEL, 0, (uint16_t)MIN(prefetch, 65535u), 0);
                amqp_rpc_reply_t rep = amqp_get_rpc_reply(a);
                char dead[300];
                snprintf(dead, sizeof dead, "%s.dead", c->cfg->queue);
                if (rep.reply_type == AMQP_RESPONSE_NORMAL) {
                        amqp_basic_consume(a, AMQP_CHANNEL, amqp_cstring_bytes(c->cfg->queue),
                                amqp_cstring_bytes("jobs"), 0, 0, 0, amqp_empty_table);
                        rep = amqp_get_rpc_reply(a);
                }
                if (rep.reply_type == AMQP_RESPONSE_NORMAL) {
                        amqp_basic_consume(a, AMQP_CHANNEL, amqp_cstring_bytes(dead), amqp_cstring_bytes("dead"), 0,
                                0, 0, amqp_empty_table);
                        rep = amqp_get_rpc_reply(a);
                }
                if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
                        amqp_util_describe(rep, err, sizeof err);
                        r = -EPROTO;
                }
        }
        if (r < 0) {
                if (r != -ECONNREFUSED)
                        log_error("RabbitMQ: %s", err);
                if (r == 0 || r == -EPROTO)
                        amqp_util_close(a);
                c->amqp_retry_ms = now_monotonic_ms() + RETRY_MS;
                return r;
        }
        c->amqp = a;
        c->conn_gen++;
        log_info("consuming %s (prefetch %u)", c->cfg->queue, executor_slots(*c->exec));
        return 0;
}

static int pg_ensure(Consumer *c)
{
        if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
                return 0;
        if (c->pg) {
                PQfinish(c->pg);
                c->pg = NULL;
        }
        if (now_monotonic_ms() < c->pg_retry_ms)
                return -EAGAIN;
        char err[256];
        if (pg_connect(c->cfg->database_url, 2, &c->pg, err, sizeof err) < 0) {
                log_warning("PostgreSQL unreachable: %s", err);
                c->pg_retry_ms = now_monotonic_ms() + RETRY_MS;
                return -EAGAIN;
        }
        return 0;
}

static redisContext *redis_get(Consumer *c)
{
        if (c->redis)
                return c->redis;
        if (now_monotonic_ms() < c->redis_retry_ms)
                return NULL;
        char err[256];
        if (redis_util_connect(c->cfg->redis_url, 2000, &c->redis, err, sizeof err) < 0) {
                log_warning("Redis unreachable: %s (events are skipped; results still reach PostgreSQL)", err);
                c->redis_retry_ms = now_monotonic_ms() + RETRY_MS;
                return NULL;
        }
        return c->redis;
}

/* ---- events ---------------------------------------------------------------------------------- */

static void redis_drop(Consumer *c)
{
        log_warning("Redis: %s", c->redis->errstr[0] ? c->redis->errstr : "connection lost");
        redisFree(c->redis);
        c->redis = NULL;
        c->redis_pending = 0;
        c->redis_retry_ms = now_monotonic_ms() + RETRY_MS;
}

/* Reads the replies of the commands sent so far (they are usually there already). */
static void redis_collect(Consumer *c)
{
        while (c->redis && c->redis_pending > 0) {
                redisReply *rep = NULL;
                if (redisGetReply(c->redis, (void **)&rep) != REDIS_OK || !rep) {
                        redis_drop(c);
                        return;
                }
                if (rep->type == REDIS_REPLY_ERROR)
                        log_warning("Redis: %s", rep->str);
                freeReplyObject(rep);
                c->redis_pending--;
        }
}

/* Sends what redisAppendCommand*() queued without waiting for the replies. */
static void redis_send(Consumer *c)
{
        int done = 0;
        while (c->redis && !done)
                if (redisBufferWrite(c->redis, &done) != REDIS_OK)
                        redis_drop(c);
        if (c->redis && c->redis_pending >= REDIS_PIPELINE_MAX)
                redis_collect(c);
}

/* Queues one XADD, its notification and for a final event an EXPIRE on the pipeline. Returns
 * whether the commands went out; for a final event, whether Redis answered them all. An event
 * sent with `later` is only queued, without a notification: the caller sends the job's next event
 * right away, and that one's notification covers both (a hub reads a stream from where it was). */
static bool send_event(Consumer *c, const char *ids, const char *text, bool final, bool later)
{
        redisContext *r = redis_get(c);
        if (!r)
                return false;
        char key[sizeof EVENTS_KEY_PREFIX + UUID_STRING_LEN], maxlen[24], ttl[24];
        snprintf(key, sizeof key, EVENTS_KEY_PREFIX "%s", ids);
        snprintf(maxlen, sizeof maxlen, "%" PRIu64, c->cfg->events_maxlen);
        const char *argv[] = {"XADD", key, "MAXLEN", "~", maxlen, "*", EVENTS_FIELD, text, "final", "1"};
        if (redisAppendCommandArgv(r, final ? 10 : 8, argv, NULL) == REDIS_OK)
                c->redis_pending++;
        if (later)
                return true;
        /* Then the job's id on the notification stream the API's hubs follow (after the event:
         * a hub that reads the id finds the event in the job's stream). */
        const char *nv[] = {"XADD", NOTIFY_KEY, "MAXLEN", "~", NOTIFY_MAXLEN, "*", NOTIFY_FIELD, ids};
        if (redisAppendCommandArgv(r, (int)ELEMENTSOF(nv), nv, NULL) == REDIS_OK)
                c->redis_pending++;
        if (final) {
                snprintf(ttl, sizeof ttl, "%" PRIu64, c->cfg->events_ttl_s);
                const char *ex[] = {"EXPIRE", key, ttl};
                if (redisAppendCommandArgv(r, 3, ex, NULL) == REDIS_OK)
                        c->redis_pending++;
        }
        redis_send(c);
        if (final)
                redis_collect(c);
        return c->redis != NULL;
}

/* A final event Redis did not take (it was down): kept, and sent again once Redis is back, so
 * that waiting requests and WebSocket watchers still get their result. Bounded: the oldest go
 * first (the results are in PostgreSQL either way). */
static void keep_final(Consumer *c, const char *ids, char *text_owned)
{
        PendingFinal *p = malloc(sizeof *p);
        if (!p) {
                free(text_owned);
                return;
        }
        snprintf(p->ids, sizeof p->ids, "%s", ids);
        p->text = text_owned;
        p->next = NULL;
        *c->finals_tail = p;
        c->finals_tail = &p->next;
        if (++c->n_finals > PENDING_FINALS_MAX) {
                PendingFinal *old = c->finals;
                c->finals = old->next;
                if (!c->finals)
                        c->finals_tail = &c->finals;
                c->n_finals--;
                log_warning("job %s: its final event is dropped (Redis down too long)", old->ids);
                free(old->text);
                free(old);
        }
}

static void resend_finals(Consumer *c)
{
        while (c->finals && send_event(c, c->finals->ids, c->finals->text, true, false)) {
                PendingFinal *p = c->finals;
                log_info("job %s: final event sent after Redis came back", p->ids);
                c->finals = p->next;
                if (!c->finals)
                        c->finals_tail = &c->finals;
                c->n_finals--;
                free(p->text);
                free(p);
        }
}

/* Appends one event to the job's stream. Events are pipelined: the replies are read later, so an
 * event costs a write, not a round trip; the final one waits for every reply (the event is in
 * Redis before the ack). A lost event is never a lost result, and a final one is kept until
 * Redis takes it. */
static void emit(Consumer *c, Job *j, json_t *event, bool final, bool later)
{
        char *text = event ? json_dumps(event, JSON_COMPACT) : NULL;
        json_decref(event);
        if (!text)
                return;
        if (final && c->finals) {
                resend_finals(c); /* keep the order: older finals first */
                if (c->finals) {
                        keep_final(c, j->ids, text);
                        return;
                }
        }
        if (!send_event(c, j->ids, text, final, later) && final) {
                keep_final(c, j->ids, text);
                return;
        }
        free(text);
}

/* `later`: the job's final event follows at once (see send_event). */
static void flush_output(Consumer *c, Job *j, bool later)
{
        if (j->batch_len == 0)
                return;
        json_t *data = json_string_lossy(j->batch, j->batch_len);
        emit(c, j, json_pack("{s:s, s:o}", "type", j->batch_stream == 2 ? "stderr" : "stdout", "data", data), false,
                later);
        j->batch_len = 0;
}

static void add_output(Consumer *c, Job *j, int stream, const char *data, size_t len)
{
        if (j->batch_len > 0 && j->batch_stream != stream)
                flush_output(c, j, false);
        while (len > 0) {
                if (!j->batch) {
                        j->batch = malloc(BATCH_BYTES);
                        if (!j->batch)
                                return;
                }
                if (j->batch_len == 0)
                        j->batch_since_ms = now_monotonic_ms();
                j->batch_stream = stream;
                size_t n = MIN(len, BATCH_BYTES - j->batch_len);
                memcpy(j->batch + j->batch_len, data, n);
                j->batch_len += n;
                data += n;
                len -= n;
                if (j->batch_len == BATCH_BYTES)
                        flush_output(c, j, false);
        }
}

/* ---- jobs ------------------------------------------------------------------------------------ */

static void job_free(Consumer *c, Job *j)
{
        for (Job **p = &c->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        c->n_jobs--;
        json_decref(j->result);
        free(j->language);
        free(j->expected);
        free(j->batch);
        free(j);
}

static void ack(Consumer *c, Job *j)
{
        /* A tag from a connection that is gone means nothing now: the broker redelivers the
         * message, and the final row makes that delivery a no-op. */
        if (c->amqp && j->conn_gen == c->conn_gen && amqp_basic_ack(c->amqp, AMQP_CHANNEL, j->tag, 0) != 0)
                amqp_drop(c);
}

static void reject(Consumer *c, Job *j)
{
        if (c->amqp && j->conn_gen == c->conn_gen && amqp_basic_reject(c->amqp, AMQP_CHANNEL, j->tag, 1) != 0)
                amqp_drop(c);
}

/* Binds a JSON string member as text for PostgreSQL: NUL bytes (which text cannot hold) become
 * U+FFFD. Returns a malloc'd string or NULL for JSON null/absent. */
static char *text_param(const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);
        if (!json_is_string(v))
                return NULL;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v), nul = 0;
        for (size_t i = 0; i < n; i++)
                nul += s[i] == '\0';
        char *out = malloc(n + 2 * nul + 1);
        if (!out)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '\0') {
                        memcpy(out + k, "\xef\xbf\xbd", 3);
                        k += 3;
                } else
                        out[k++] = s[i];
        out[k] = '\0';
        return out;
}

static char *number_param(const json_t *o, const char *key, bool integer)
{
        const json_t *v = json_object_get(o, key);
        if (!json_is_number(v))
                return NULL;
        char buf[48];
        if (integer)
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
                snprintf(buf, sizeof buf, "%.6f", json_number_value(v));
        return strdup(buf);
}

/* Commits a final state. Returns 0 (committed, or final already: *ret_json NULL then), -EAGAIN. */
static int commit_result(Consumer *c, Job *j, const char *status, char **ret_json)
{
        if (pg_ensure(c) < 0)
                return -EAGAIN;
        const json_t *r = j->result;
        _cleanup_free_ char *out = text_param(r, "stdout"), *err = text_param(r, "stderr"),
                            *comp = text_param(r, "compile_output"), *msg = text_param(r, "message"),
                            *code = number_param(r, "exit_code", true), *sig = number_param(r, "signal", true),
                            *cpu = number_param(r, "cpu_time", false), *wall = number_param(r, "wall_time", false),
                            *mem = number_param(r, "memory", true);
        const char *params[] = {j->ids, j->created_ms, status, out, err, comp, code, sig, cpu, wall, mem, msg};
        _cleanup_pgresult_ PGresult *res = pg_exec_prepared(c->pg,
                "UPDATE submissions SET status = $3, stdout = $4, stderr = $5, compile_output = $6,"
                " exit_code = $7::int, signal = $8::int, cpu_time = $9::float8, wall_time = $10::float8,"
                " memory = $11::bigint, message = $12, finished_at = now(),"
                " started_at = COALESCE(started_at, now())"
                " WHERE id = $1 AND created_at = " CREATED_AT_PARAM(2) " AND status IN ('QUEUED', 'RUNNING')"
                " RETURNING " SUBMISSION_JSON "::text",
                (int)ELEMENTSOF(params), params);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                log_warning("committing %s failed: %s", j->ids, PQerrorMessage(c->pg));
                c->pg_retry_ms = now_monotonic_ms() + RETRY_MS;
                return -EAGAIN;
        }
        *ret_json = PQntuples(res) > 0 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
        return 0;
}

/* Done: commit, then the final event, then the ack (the order DESIGN.md requires). */
static int finish_job(Consumer *c, Job *j)
{
        const char *status = json_string_value(json_object_get(j->result, "status"));
        if (!status)
                status = "INTERNAL_ERROR";
        if (strcmp(status, "ACCEPTED") == 0 && j->expected) {
                const json_t *out = json_object_get(j->result, "stdout");
                if (!output_matches(json_string_value(out) ? json_string_value(out) : "", json_string_length(out),
                            j->expected, j->expected_len))
                        status = "WRONG_ANSWER";
        }
        _cleanup_free_ char *json = NULL;
        if (commit_result(c, j, status, &json) < 0)
                return -EAGAIN;
        /* The last output and the result go out together, under one notification. */
        flush_output(c, j, json != NULL);
        if (json) {
                json_error_t e;
                json_t *res = json_loads(json, 0, &e);
                emit(c, j, json_pack("{s:s, s:o*}", "type", "result", "result", res), true, false);
        }
        ack(c, j);
        if (!j->dead) {
                const char *labels[] = {j->language ? j->language : "unknown", status};
                metrics_counter_add(c->m->executions, 1, labels);
                const char *lang[] = {labels[0]};
                metrics_histogram_observe(c->m->duration, (double)(now_monotonic_ns() - j->started_ns) / 1e9, lang);
                metrics_gauge_add(c->m->active, -1, NULL);
                if (strcmp(status, "INTERNAL_ERROR") == 0)
                        metrics_counter_add(c->m->sandbox_failures, 1, NULL);
        }
        log_info("job %s: %s", j->ids, status);
        job_free(c, j);
        return 0;
}

/* Claims the row and hands the job to the executor. Returns -EAGAIN to retry later. */
static int start_job(Consumer *c, Job *j)
{
        if (pg_ensure(c) < 0)
                return -EAGAIN;
        if (j->dead) {
                char msg[200];
                snprintf(msg, sizeof msg, "the job was dead-lettered after %" PRIu64 " deliveries: it crashed or "
                        "stalled the workers that took it", c->cfg->delivery_limit);
                j->result = json_pack("{s:s, s:s}", "status", "INTERNAL_ERROR", "message", msg);
                if (!j->result)
                        return -ENOMEM;
                j->state = JOB_COMMITTING;
                return finish_job(c, j);
        }
        /* The claim commits asynchronously (no WAL flush: ~1 ms less per job). Losing it to a
         * database crash is harmless: the result's UPDATE accepts a QUEUED row too, and its
         * synchronous commit flushes the claim's WAL with its own. */
        const char *params[] = {j->ids, j->created_ms, j->redelivered ? "t" : "f"};
        _cleanup_pgresult_ PGresult *res = pg_exec_prepared(c->pg,
                "UPDATE submissions SET status = 'RUNNING', started_at = now(), attempts = attempts + 1"
                " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
                " WHERE id = $1 AND created_at = " CREATED_AT_PARAM(2)
                " AND (status = 'QUEUED' OR (status = 'RUNNING' AND $3::bool))"
                " RETURNING language, source_code, stdin, args::text, limits::text, expected_output,"
                " extract(epoch FROM now() - created_at)",
                3, params);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                log_warning("claiming %s failed: %s", j->ids, PQerrorMessage(c->pg));
                c->pg_retry_ms = now_monotonic_ms() + RETRY_MS;
                return -EAGAIN;
        }
        if (PQntuples(res) == 0) {
                /* Final already, or running elsewhere (a duplicate publish by the relay). */
                log_info("job %s: already taken or final; skipped", j->ids);
                ack(c, j);
                job_free(c, j);
                return 0;
        }
        j->language = strdup(PQgetvalue(res, 0, 0));
        if (!PQgetisnull(res, 0, 5)) {
                j->expected_len = (size_t)PQgetlength(res, 0, 5);
                j->expected = strdup(PQgetvalue(res, 0, 5));
        }
        metrics_histogram_observe(c->m->queue_wait, strtod(PQgetvalue(res, 0, 6), NULL), NULL);

        json_error_t e;
        json_auto_t *limits = json_loads(PQgetvalue(res, 0, 4), 0, &e);
        json_auto_t *args = PQgetisnull(res, 0, 3) ? NULL : json_loads(PQgetvalue(res, 0, 3), 0, &e);
        Limits lim = c->cfg->run_default;
        double cpu = json_number_value(json_object_get(limits, "cpu_time"));
        double wall = json_number_value(json_object_get(limits, "wall_time"));
        if (cpu > 0)
                lim.cpu_ms = (uint64_t)(cpu * 1000 + 0.5);
        if (wall > 0)
                lim.wall_ms = (uint64_t)(wall * 1000 + 0.5);
        if (json_integer_value(json_object_get(limits, "memory")) > 0)
                lim.memory_kb = (uint64_t)json_integer_value(json_object_get(limits, "memory"));
        if (json_integer_value(json_object_get(limits, "pids")) > 0)
                lim.pids = (uint64_t)json_integer_value(json_object_get(limits, "pids"));
        if (json_integer_value(json_object_get(limits, "output")) > 0)
                lim.output_kb = (uint64_t)json_integer_value(json_object_get(limits, "output"));

        size_t nargs = json_is_array(args) ? json_array_size(args) : 0;
        _cleanup_free_ char **argv = calloc(nargs + 1, sizeof *argv);
        if (!argv || !j->language)
                return -ENOMEM;
        for (size_t i = 0; i < nargs; i++)
                argv[i] = (char *)json_string_value(json_array_get(args, i));

        ExecRequest req = {
                .tag = j->ids,
                .language = j->language,
                .source = PQgetvalue(res, 0, 1),
                .source_len = (size_t)PQgetlength(res, 0, 1),
                .stdin_data = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
                .stdin_len = (size_t)PQgetlength(res, 0, 2),
                .args = nargs ? argv : NULL,
                .limits = lim,
        };
        j->state = JOB_EXECUTING;
        j->started_ns = now_monotonic_ns();
        metrics_gauge_add(c->m->active, 1, NULL);
        /* No RUNNING event here: the executor's first phase ("compiling" or "running") follows at
         * once and says it, one Redis write per job fewer. */
        int r = executor_submit(*c->exec, &req);
        if (r < 0) {
                log_error("executor: submitting %s failed: %s", j->ids, strerror(-r));
                j->result = json_pack("{s:s, s:s}", "status", "INTERNAL_ERROR", "message", "the sandbox executor failed");
                j->state = JOB_COMMITTING;
                return finish_job(c, j) == 0 ? 0 : 0;
        }
        return 0;
}

static bool slot_free(Consumer *c)
{
        unsigned n = 0;
        for (Job *j = c->jobs; j; j = j->next)
                n += j->state == JOB_EXECUTING;
        return n < executor_slots(*c->exec);
}

/* Starts delivered jobs, oldest first (the list is newest first), while a slot is free;
 * dead-lettered jobs need no slot. Stops when PostgreSQL is unreachable. */
static void start_waiting(Consumer *c)
{
        while (now_monotonic_ms() >= c->pg_retry_ms) {
                bool free_slot = slot_free(c);
                Job *next = NULL;
                for (Job *j = c->jobs; j; j = j->next)
                        if (j->state == JOB_CLAIMING && (j->dead || free_slot))
                                next = j;
                if (!next)
                        return;
                int r = start_job(c, next); /* may free next */
                if (r == -EAGAIN)
                        return;
                if (r == -ENOMEM) {
                        reject(c, next);
                        job_free(c, next);
                }
        }
}

static Job *find_job(Consumer *c, const char *tag)
{
        for (Job *j = c->jobs; j; j = j->next)
                if (j->state == JOB_EXECUTING && strcmp(j->ids, tag) == 0)
                        return j;
        return NULL;
}

static void on_delivery(Consumer *c, amqp_envelope_t *env)
{
        bool dead = env->consumer_tag.len == 4 && memcmp(env->consumer_tag.bytes, "dead", 4) == 0;
        Uuid id;
        if (uuid_parse(env->message.body.bytes, env->message.body.len, &id) < 0) {
                log_warning("dropping a malformed message (%zu bytes)", env->message.body.len);
                amqp_basic_ack(c->amqp, AMQP_CHANNEL, env->delivery_tag, 0);
                return;
        }
        /* The same job again while we still hold it: the broker redelivered it after our
         * connection dropped (a broker restart), or the relay published it twice. Running it again
         * would run it twice: the job we have takes the new delivery instead. */
        for (Job *o = c->jobs; o; o = o->next) {
                if (o->dead != dead || memcmp(o->id.bytes, id.bytes, sizeof id.bytes) != 0)
                        continue;
                if (o->conn_gen != c->conn_gen) {
                        log_info("job %s: redelivered while it runs here; keeping the run", o->ids);
                        o->tag = env->delivery_tag;
                        o->conn_gen = c->conn_gen;
                } else {
                        log_info("job %s: a duplicate delivery; acknowledged", o->ids);
                        amqp_basic_ack(c->amqp, AMQP_CHANNEL, env->delivery_tag, 0);
                }
                return;
        }
        Job *j = calloc(1, sizeof *j);
        if (!j) {
                amqp_basic_reject(c->amqp, AMQP_CHANNEL, env->delivery_tag, 1);
                return;
        }
        j->id = id;
        uuid_format(&id, j->ids);
        snprintf(j->created_ms, sizeof j->created_ms, "%" PRIu64, uuid7_unix_ms(&id));
        j->tag = env->delivery_tag;
        j->conn_gen = c->conn_gen;
        j->redelivered = env->redelivered;
        j->dead = dead;
        j->state = JOB_CLAIMING;
        j->next = c->jobs;
        c->jobs = j;
        c->n_jobs++;
        start_waiting(c);
}

/* Reads every delivery already available without blocking. */
static void drain_amqp(Consumer *c)
{
        while (c->amqp) {
                struct timeval zero = {0, 0};
                amqp_envelope_t env;
                amqp_maybe_release_buffers(c->amqp);
                amqp_rpc_reply_t r = amqp_consume_message(c->amqp, &env, &zero, 0);
                if (r.reply_type == AMQP_RESPONSE_NORMAL) {
                        on_delivery(c, &env);
                        amqp_destroy_envelope(&env);
                        continue;
                }
                if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
                        return;
                if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
                        /* Not a delivery: a broker method (cancel, close) or a heartbeat. */
                        amqp_frame_t f;
                        if (amqp_simple_wait_frame_noblock(c->amqp, &f, &zero) != AMQP_STATUS_OK) {
                                amqp_drop(c);
                                return;
                        }
                        if (f.frame_type == AMQP_FRAME_METHOD &&
                            (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                             f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
                             f.payload.method.id == AMQP_BASIC_CANCEL_METHOD)) {
                                amqp_drop(c);
                                return;
                        }
                        continue;
                }
                amqp_drop(c);
                return;
        }
}

static void on_exec_event(Consumer *c, ExecEvent *ev)
{
        Job *j = find_job(c, ev->tag);
        if (!j)
                return;
        switch (ev->type) {
        case EXEC_EVENT_PHASE:
                emit(c, j, json_pack("{s:s, s:s, s:s}", "type", "status", "status", "RUNNING", "phase",
                                ev->phase == JOB_COMPILING ? "compiling" : "running"),
                        false, false);
                break;
        case EXEC_EVENT_OUTPUT:
                add_output(c, j, ev->stream, ev->data, ev->len);
                break;
        case EXEC_EVENT_DONE:
                j->result = json_incref(ev->result);
                j->state = JOB_COMMITTING;
                start_waiting(c); /* the free slot first, then this job's commit */
                finish_job(c, j);
                break;
        }
}

/* The executor died. Forking a new one from this process is not an option (it has threads now,
 * and sandboxes are never cloned from a multi-threaded process): the jobs in flight go back to the
 * queue, where each return counts toward the delivery limit, and the worker exits for its
 * supervisor (systemd, Kubernetes, deploy/local/up) to restart it. A job that kills the executor
 * every time thus ends in the dead-letter queue and as INTERNAL_ERROR. */
static void executor_died(Consumer *c)
{
        metrics_counter_add(c->m->sandbox_failures, 1, NULL);
        for (Job *j = c->jobs, *n; j; j = n) {
                n = j->next;
                if (j->state == JOB_EXECUTING) {
                        reject(c, j);
                        metrics_gauge_add(c->m->active, -1, NULL);
                        job_free(c, j);
                }
        }
        log_error("the sandbox executor died; exiting so that the supervisor restarts the worker");
}

int consumer_run(const Config *cfg, Executor **exec, WorkerMetrics *m, int signal_fd)
{
        Consumer c = {.cfg = cfg, .exec = exec, .m = m, .signal_fd = signal_fd};
        c.finals_tail = &c.finals;
        uint64_t drain_deadline = 0;
        int ret = 0;
        for (;;) {
                if (c.draining && (c.n_jobs == 0 || now_monotonic_ms() >= drain_deadline))
                        break;
                amqp_ensure(&c);

                /* Retry what waits on PostgreSQL; flush output batches that are due. */
                int timeout = 500;
                if (c.finals) {
                        resend_finals(&c);
                        if (c.finals)
                                timeout = RETRY_MS;
                }
                for (Job *j = c.jobs, *n; j; j = n) {
                        n = j->next;
                        if (j->state == JOB_COMMITTING && now_monotonic_ms() >= c.pg_retry_ms)
                                finish_job(&c, j);
                }
                start_waiting(&c);
                for (Job *j = c.jobs; j; j = j->next)
                        if (j->batch_len > 0) {
                                if (now_monotonic_ms() - j->batch_since_ms >= FLUSH_MS)
                                        flush_output(&c, j, false);
                                else
                                        timeout = MIN(timeout, FLUSH_MS);
                        }
                for (Job *j = c.jobs; j; j = j->next)
                        if (j->state != JOB_EXECUTING)
                                timeout = MIN(timeout, RETRY_MS);

                if (c.amqp && (amqp_data_in_buffer(c.amqp) || amqp_frames_enqueued(c.amqp)))
                        timeout = 0;
                struct pollfd fds[3] = {
                        {.fd = signal_fd, .events = POLLIN},
                        {.fd = executor_fd(*exec), .events = POLLIN},
                        {.fd = c.amqp ? amqp_get_sockfd(c.amqp) : -1, .events = POLLIN},
                };
                if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
                        ret = log_error_errno(-errno, "poll");
                        break;
                }
                if (fds[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(signal_fd, &si, sizeof si) == sizeof si && !c.draining) {
                                log_info("signal %u: draining (%u job(s) in flight)", si.ssi_signo, c.n_jobs);
                                c.draining = true;
                                drain_deadline = now_monotonic_ms() + cfg->shutdown_grace_ms;
                                if (c.amqp) {
                                        amqp_basic_cancel(c.amqp, AMQP_CHANNEL, amqp_cstring_bytes("jobs"));
                                        amqp_basic_cancel(c.amqp, AMQP_CHANNEL, amqp_cstring_bytes("dead"));
                                }
                        }
                }
                if (fds[1].revents) {
                        for (;;) {
                                ExecEvent ev = {};
                                int r = executor_next_event(*exec, &ev, 0);
                                if (r == -EAGAIN)
                                        break;
                                if (r < 0) {
                                        executor_died(&c);
                                        ret = r;
                                        goto out;
                                }
                                on_exec_event(&c, &ev);
                                exec_event_deinit(&ev);
                        }
                }
                if (c.amqp && !c.draining)
                        drain_amqp(&c);
                else if (c.amqp && (fds[2].revents & POLLIN)) {
                        /* Draining: deliveries sent before the cancel go back unprocessed. */
                        struct timeval zero = {0, 0};
                        amqp_frame_t f;
                        while (c.amqp && amqp_simple_wait_frame_noblock(c.amqp, &f, &zero) == AMQP_STATUS_OK)
                                ;
                }
        }
out:
        /* Jobs still here were not finished within the grace period: not acknowledged, so the
         * broker hands them to another worker when this connection closes. */
        if (c.n_jobs > 0)
                log_warning("%u job(s) unfinished at exit; they return to the queue", c.n_jobs);
        while (c.jobs)
                job_free(&c, c.jobs);
        if (c.amqp)
                amqp_util_close(c.amqp);
        if (c.pg)
                PQfinish(c.pg);
        if (c.n_finals > 0)
                log_warning("%u final event(s) never reached Redis (the results are in PostgreSQL)", c.n_finals);
        while (c.finals) {
                PendingFinal *p = c.finals;
                c.finals = p->next;
                free(p->text);
                free(p);
        }
        if (c.redis)
                redisFree(c.redis);
        return ret;
}
