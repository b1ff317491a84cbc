/* SPDX-License-Identifier: Apache-2.0 */
/* The API's PostgreSQL side: a small connection pool and the submission queries. */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "log.h"
#include "pg-util.h"
#include "submission-sql.h"
#include "time-util.h"

#define CONNECT_TIMEOUT_S 2
#define ACQUIRE_TIMEOUT_MS 5000
/* After a failed connect, requests fail fast for this long instead of each waiting on a connect. */
#define DOWN_BACKOFF_MS 500

struct Store {
        char *url;
        char *migrations_dir; /* SENTINEL_MIGRATIONS_DIR ("": the installed or source tree's) */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        PGconn **idle; /* connections ready for use (NULL slots are not yet opened) */
        unsigned *idle_gen;
        size_t n_idle;
        unsigned generation; /* bumped when a connection is found dead: its siblings are suspect too */
        size_t size;
        uint64_t down_until_ms;
};

int store_new(const Config *cfg, Store **ret, char *errbuf, size_t errlen)
{
        Store *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->url = strdup(cfg->database_url);
        s->migrations_dir = strdup(cfg->migrations_dir ? cfg->migrations_dir : "");
        s->size = cfg->db_pool;
        s->idle = calloc(s->size, sizeof *s->idle);
        s->idle_gen = calloc(s->size, sizeof *s->idle_gen);
        if (!s->url || !s->migrations_dir || !s->idle || !s->idle_gen) {
                store_free(s);
                return -ENOMEM;
        }
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->n_idle = s->size; /* all "idle", unopened: opened on first use */
        *ret = s;
        return 0;
}

Store *store_free(Store *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_idle; i++)
                if (s->idle[i])
                        PQfinish(s->idle[i]);
        free(s->idle);
        free(s->idle_gen);
        free(s->url);
        free(s->migrations_dir);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return NULL;
}

/* Takes a connection (opening or resetting it as needed). Returns -EAGAIN when PostgreSQL cannot be
 * reached. The slot must go back through release(), with the connection or NULL. */
static int acquire(Store *s, PGconn **ret)
{
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += ACQUIRE_TIMEOUT_MS / 1000;

        pthread_mutex_lock(&s->lock);
        while (s->n_idle == 0)
                if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT) {
                        pthread_mutex_unlock(&s->lock);
                        return -EAGAIN;
                }
        if (now_monotonic_ms() < s->down_until_ms) {
                pthread_mutex_unlock(&s->lock);
                return -EAGAIN;
        }
        PGconn *c = s->idle[--s->n_idle];
        bool stale = s->idle_gen[s->n_idle] != s->generation;
        pthread_mutex_unlock(&s->lock);

        /* After a server restart every pooled connection is dead, but libpq only learns it on
         * the next use: connections from before a failure are replaced, not tried. */
        if (c && (stale || PQstatus(c) != CONNECTION_OK)) {
                PQfinish(c);
                c = NULL;
        }
        if (!c) {
                char err[256];
                if (pg_connect(s->url, CONNECT_TIMEOUT_S, &c, err, sizeof err) < 0) {
                        log_warning("PostgreSQL unreachable: %s", err);
                        pthread_mutex_lock(&s->lock);
                        s->idle[s->n_idle++] = NULL;
                        s->down_until_ms = now_monotonic_ms() + DOWN_BACKOFF_MS;
                        pthread_cond_signal(&s->cond);
                        pthread_mutex_unlock(&s->lock);
                        return -EAGAIN;
                }
        }
        *ret = c;
        return 0;
}

static void release(Store *s, PGconn *c)
{
        /* A connection that broke during the query is dropped here and reopened on next use. */
        bool broken = c && PQstatus(c) != CONNECTION_OK;
        if (broken) {
                PQfinish(c);
                c = NULL;
        }
        pthread_mutex_lock(&s->lock);
        if (broken)
                s->generation++;
        s->idle_gen[s->n_idle] = s->generation;
        s->idle[s->n_idle++] = c;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

/* Runs one parameterised statement (prepared: once per connection, for the statements on every
 * request's path). Returns the result (caller clears) or NULL with -errno in *ret_err: -EAGAIN
 * when the server went away, -EIO for a failed statement. */
static PGresult *run(Store *s, const char *sql, int n, const char *const *params, int *ret_err, bool prepared)
{
        /* Every statement here is safe to run twice (reads, idempotent updates, inserts that do
         * nothing on conflict), so a connection found dead is retried once on a fresh one. */
        for (int attempt = 0;; attempt++) {
                PGconn *c;
                int r = acquire(s, &c);
                if (r < 0) {
                        *ret_err = r;
                        return NULL;
                }
                PGresult *res = prepared ? pg_exec_prepared(c, sql, n, params)
                                         : PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                        release(s, c);
                        return res;
                }
                bool gone = PQstatus(c) != CONNECTION_OK;
                if (!gone)
                        log_error("query failed: %s", PQerrorMessage(c));
                PQclear(res);
                release(s, c);
                if (gone && attempt == 0)
                        continue;
                *ret_err = gone ? -EAGAIN : -EIO;
                return NULL;
        }
}

static PGresult *query(Store *s, const char *sql, int n, const char *const *params, int *ret_err)
{
        return run(s, sql, n, params, ret_err, false);
}

static PGresult *query_hot(Store *s, const char *sql, int n, const char *const *params, int *ret_err)
{
        return run(s, sql, n, params, ret_err, true);
}

uint64_t store_created_ms(const Uuid *id)
{
        return uuid7_unix_ms(id);
}


int store_migrate(Store *s, char *errbuf, size_t errlen)
{
        PGconn *c;
        int r = acquire(s, &c);
        if (r < 0) {
                snprintf(errbuf, errlen, "PostgreSQL is unreachable (%s)", s->url);
                return r;
        }
        r = pg_migrate(c, pg_migrations_dir(s->migrations_dir), errbuf, errlen);
        release(s, c);
        if (r < 0)
                return r;
        if (r > 0)
                log_info("applied %d migration(s)", r);
        return store_ensure_partitions(s);
}

int store_ensure_partitions(Store *s)
{
        int err = 0;
        _cleanup_pgresult_ PGresult *res =
                query(s, "SELECT sentinel_ensure_partitions(now() - interval '1 day', 4)", 0, NULL, &err);
        return res ? 0 : err;
}

static int single_text(PGresult *res, char **ret)
{
        if (PQntuples(res) == 0)
                return -ENOENT;
        char *t = strdup(PQgetvalue(res, 0, 0));
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

int store_insert(Store *s, const SubmissionRow *row)
{
        char id[UUID_STRING_LEN + 1], ms[24], cap[24];
        uuid_format(row->id, id);
        snprintf(ms, sizeof ms, "%" PRIu64, store_created_ms(row->id));
        snprintf(cap, sizeof cap, "%" PRIu64, row->max_active);
        const char *params[] = {id, ms, row->client, row->language, row->source, row->stdin_data,
                row->args_json, row->expected_output, row->limits_json, cap};
        int err = 0;
        /* The cap counts the client's QUEUED and RUNNING rows (a partial index) in the same
         * statement: concurrent submissions of one client may pass it by the number of API
         * threads at most. The outbox row is written by the same statement, so it exists exactly
         * when the submission does; it yields one row per submission inserted. */
        _cleanup_pgresult_ PGresult *res = query_hot(s,
                "WITH s AS ("
                " INSERT INTO submissions (id, created_at, client, language, source_code, stdin, args,"
                " expected_output, limits) SELECT $1, " CREATED_AT_PARAM(2) ", $3, $4, $5, $6, $7::jsonb,"
                " $8, $9::jsonb WHERE $10::int = 0 OR (SELECT count(*) FROM (SELECT 1 FROM submissions"
                "  WHERE client = $3 AND status IN ('QUEUED', 'RUNNING') LIMIT $10::int) AS active) < $10::int"
                " ON CONFLICT DO NOTHING RETURNING id, created_at)"
                " INSERT INTO sentinel_outbox (id, created_at) SELECT id, created_at FROM s RETURNING 1",
                (int)ELEMENTSOF(params), params, &err);
        if (!res)
                return err;
        if (PQntuples(res) > 0)
                return 0;
        /* Nothing inserted: over the cap, or a retry after an insert whose answer was lost. */
        _cleanup_pgresult_ PGresult *again = query(s,
                "SELECT 1 FROM submissions WHERE id = $1 AND created_at = " CREATED_AT_PARAM(2), 2, params, &err);
        if (!again)
                return err;
        return PQntuples(again) > 0 ? 0 : -EDQUOT;
}

int store_active_keys(Store *s, KeySet **ret)
{
        int err = 0;
        _cleanup_pgresult_ PGresult *res =
                query(s, "SELECT key_hash, id::text FROM api_keys WHERE revoked_at IS NULL", 0, NULL, &err);
        if (!res)
                return err;
        size_t n = (size_t)PQntuples(res);
        _cleanup_free_ const char **hashes = calloc(n + 1, sizeof *hashes), **ids = calloc(n + 1, sizeof *ids);
        if (!hashes || !ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                hashes[i] = PQgetvalue(res, (int)i, 0);
                ids[i] = PQgetvalue(res, (int)i, 1);
        }
        return key_set_new(hashes, ids, n, ret);
}

int store_key_create(Store *s, const char *name, const char *hash, const char *prefix, char **ret_id)
{
        const char *params[] = {name, hash, prefix};
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query(s,
                "INSERT INTO api_keys (name, key_hash, prefix) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING id::text",
                3, params, &err);
        if (!res)
                return err;
        return PQntuples(res) > 0 ? single_text(res, ret_id) : -EEXIST;
}

int store_key_revoke(Store *s, const char *name_or_id)
{
        const char *params[] = {name_or_id};
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query(s,
                "UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL"
                " AND (name = $1 OR id::text = $1) RETURNING 1",
                1, params, &err);
        if (!res)
                return err;
        return PQntuples(res) > 0 ? 0 : -ENOENT;
}

int store_key_list(Store *s, char **ret_text)
{
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query(s,
                "SELECT coalesce(string_agg(format('%s  %-20s %s...  created %s%s', id, name, prefix,"
                " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
                " CASE WHEN revoked_at IS NULL THEN '' ELSE '  revoked ' || to_char(revoked_at AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD HH24:MI') END), E'\\n' ORDER BY created_at), '') FROM api_keys",
                0, NULL, &err);
        return res ? single_text(res, ret_text) : err;
}

int store_get_json(Store *s, const Uuid *id, char **ret_json, bool *ret_final)
{
        char ids[UUID_STRING_LEN + 1], ms[24];
        uuid_format(id, ids);
        snprintf(ms, sizeof ms, "%" PRIu64, store_created_ms(id));
        const char *params[] = {ids, ms};
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query_hot(s,
                "SELECT " SUBMISSION_JSON "::text, status NOT IN ('QUEUED', 'RUNNING') FROM submissions"
                " WHERE id = $1 AND created_at = " CREATED_AT_PARAM(2),
                2, params, &err);
        if (!res)
                return err;
        if (ret_final)
                *ret_final = PQntuples(res) > 0 && PQgetvalue(res, 0, 1)[0] == 't';
        return single_text(res, ret_json);
}

int store_get_status(Store *s, const Uuid *id, char **ret_status)
{
        char ids[UUID_STRING_LEN + 1], ms[24];
        uuid_format(id, ids);
        snprintf(ms, sizeof ms, "%" PRIu64, store_created_ms(id));
        const char *params[] = {ids, ms};
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query(s,
                "SELECT status FROM submissions WHERE id = $1 AND created_at = " CREATED_AT_PARAM(2), 2,
                params, &err);
        return res ? single_text(res, ret_status) : err;
}

int store_list_json(Store *s, unsigned limit, const Uuid *before, const char *client, char **ret_json)
{
        char lim[16], ids[UUID_STRING_LEN + 1] = "", ms[24] = "";
        snprintf(lim, sizeof lim, "%u", limit);
        if (before) {
                uuid_format(before, ids);
                snprintf(ms, sizeof ms, "%" PRIu64, store_created_ms(before));
        }
        const char *params[] = {lim, before ? ids : NULL, before ? ms : NULL, client};
        int err = 0;
        /* Keyset paging on (created_at, id): one more row than asked tells whether a next page
         * exists. History rows leave out the bulky fields. */
        _cleanup_pgresult_ PGresult *res = query(s,
                "WITH page AS ("
                "  SELECT id, created_at, language, status, exit_code, cpu_time, wall_time, memory,"
                "         finished_at FROM submissions"
                "  WHERE ($2::uuid IS NULL OR (created_at, id) < (" CREATED_AT_PARAM(3) ", $2::uuid))"
                "    AND ($4::text IS NULL OR client = $4)"
                "  ORDER BY created_at DESC, id DESC LIMIT $1::int + 1),"
                " shown AS (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT $1::int)"
                " SELECT json_build_object("
                "  'submissions', COALESCE((SELECT json_agg(json_build_object('id', id, 'language', language,"
                "     'status', status, 'exit_code', exit_code, 'cpu_time', cpu_time, 'wall_time', wall_time,"
                "     'memory', memory, 'created_at', " ISO("created_at") ", 'finished_at', " ISO("finished_at")
                "     ) ORDER BY created_at DESC, id DESC) FROM shown), '[]'::json),"
                "  'next_cursor', CASE WHEN (SELECT count(*) FROM page) > $1::int"
                "     THEN (SELECT id FROM shown ORDER BY created_at, id LIMIT 1) END)::text",
                4, params, &err);
        return res ? single_text(res, ret_json) : err;
}

int store_ping(Store *s)
{
        int err = 0;
        _cleanup_pgresult_ PGresult *res = query(s, "SELECT 1", 0, NULL, &err);
        return res ? 0 : err;
}

int store_unpublished(Store *s, uint64_t older_ms, unsigned max, Uuid **ret_ids, size_t *ret_n)
{
        char age[24], lim[16];
        snprintf(age, sizeof age, "%" PRIu64, older_ms);
        snprintf(lim, sizeof lim, "%u", max);
        const char *params[] = {age, lim};
        int err = 0;
        /* The outbox's oldest rows past the age, each with its submission's status. Those still
         * QUEUED are published again; the others were delivered (a worker claimed them) and only
         * their confirm was lost, so their rows go. Each pass takes `max` rows at most, whatever
         * their status: a backlog of stale rows drains over a few passes. The plan is generic, so
         * the status is a subquery per row and the delete goes by ctid (a row this statement read
         * cannot be reused while it runs): neither may become a scan of a whole table, whatever the
         * planner guesses `max` to be. */
        _cleanup_pgresult_ PGresult *res = query(s,
                "WITH due AS MATERIALIZED ("
                "  SELECT ctid AS tid, id, created_at, (SELECT s.status = 'QUEUED' FROM submissions s"
                "    WHERE s.id = o.id AND s.created_at = o.created_at) AS queued"
                "  FROM sentinel_outbox o WHERE created_at < now() - $1::bigint * interval '1 millisecond'"
                "  ORDER BY created_at LIMIT $2::int),"
                " delivered AS ("
                "  DELETE FROM sentinel_outbox WHERE ctid = ANY (ARRAY(SELECT tid FROM due WHERE queued IS NOT TRUE)))"
                " SELECT id FROM due WHERE queued ORDER BY created_at",
                2, params, &err);
        if (!res)
                return err;
        size_t n = (size_t)PQntuples(res);
        Uuid *ids = calloc(n ? n : 1, sizeof *ids);
        if (!ids)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const char *v = PQgetvalue(res, (int)i, 0);
                if (uuid_parse(v, strlen(v), &ids[k]) == 0)
                        k++;
        }
        *ret_ids = ids;
        *ret_n = k;
        return 0;
}

int store_mark_published(Store *s, const Uuid *ids, size_t n)
{
        if (n == 0)
                return 0;
        /* One statement for the batch: '{id,id,...}' as a uuid[] and the created_at bounds, which
         * narrow the scan of the outbox's key. */
        _cleanup_free_ char *arr = malloc(n * (UUID_STRING_LEN + 1) + 3);
        if (!arr)
                return -ENOMEM;
        size_t off = 0;
        uint64_t lo = UINT64_MAX, hi = 0;
        arr[off++] = '{';
        for (size_t i = 0; i < n; i++) {
                if (i)
                        arr[off++] = ',';
                uuid_format(&ids[i], arr + off);
                off += UUID_STRING_LEN;
                uint64_t ms = store_created_ms(&ids[i]);
                lo = MIN(lo, ms);
                hi = MAX(hi, ms);
        }
        arr[off++] = '}';
        arr[off] = '\0';
        char los[24], his[24];
        snprintf(los, sizeof los, "%" PRIu64, lo);
        snprintf(his, sizeof his, "%" PRIu64, hi);
        const char *params[] = {arr, los, his};
        int err = 0;
        /* The delete commits asynchronously (no WAL flush), like the worker's claim. Losing it to
         * a database crash is harmless: the rows come back, and the relay deletes them again or,
         * for jobs still QUEUED, publishes them once more (a worker skips a duplicate delivery). */
        _cleanup_pgresult_ PGresult *res = query_hot(s,
                "DELETE FROM sentinel_outbox USING (SELECT set_config('synchronous_commit', 'off', true))"
                " AS async_commit WHERE id = ANY($1::uuid[])"
                " AND created_at BETWEEN " CREATED_AT_PARAM(2) " AND " CREATED_AT_PARAM(3),
                3, params, &err);
        return res ? 0 : err;
}
