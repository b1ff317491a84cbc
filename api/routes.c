/* SPDX-License-Identifier: Apache-2.0 */
/* The routes of sentinel-api: one table, one handler per route. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "keys.h"
#include "log.h"
#include "server.h"
#include "static.h"
#include "submission-request.h"
#include "uuid.h"

#define HISTORY_DEFAULT 20
#define HISTORY_MAX 100
#define IDEMPOTENCY_TTL_S 86400
#define IDEMPOTENCY_KEY_MAX 255

static void format_ms(uint64_t ms, char *buf, size_t len)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%03" PRIu64 "Z", base, ms % 1000);
}

static char *accepted_body(const Uuid *id, const char *status)
{
        char ids[UUID_STRING_LEN + 1], created[40];
        uuid_format(id, ids);
        format_ms(uuid7_unix_ms(id), created, sizeof created);
        json_t *o = json_pack("{s:s, s:s, s:s}", "id", ids, "status", status, "created_at", created);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return s;
}

static bool is_final(const char *status)
{
        return strcmp(status, "QUEUED") != 0 && strcmp(status, "RUNNING") != 0;
}

/* Parses an optional boolean query argument. Returns 0, or -EINVAL after answering 422. */
static int query_bool(Request *rq, const char *name, bool *ret)
{
        const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
        *ret = false;
        if (!v)
                return 0;
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
                *ret = true;
                return 0;
        }
        if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
                return 0;
        respond_error(rq, 422, "invalid_type", name, "%s must be true or false", name);
        return -EINVAL;
}

/* A replayed Idempotency-Key: the same answer as the first time, for the same submission. */
static void replay_submission(Request *rq, const Uuid *id)
{
        Server *srv = rq->srv;
        _cleanup_free_ char *status = NULL;
        int r = store_get_status(srv->store, id, &status);
        if (r == -ENOENT) {
                /* Reserved but not committed (its first request failed or is still inserting). */
                respond_error(rq, 409, "idempotency_key_in_use", "Idempotency-Key",
                        "a request with this key is still being processed; retry");
                return;
        }
        if (r < 0) {
                respond_error(rq, 503, "unavailable", NULL, "the database is unreachable; retry");
                return;
        }
        if (is_final(status)) {
                char *json = NULL;
                if (store_get_json(srv->store, id, &json, NULL) == 0) {
                        respond_json(rq, 200, json);
                        return;
                }
        }
        char *body = accepted_body(id, status);
        if (body)
                respond_json(rq, 202, body);
}

/* Per-client rate limit (a token bucket in Redis). Returns 0, or -EBUSY after answering 429.
 * With Redis unreachable the limit is not enforced (logged): submissions go on. */
static int rate_limit(Request *rq)
{
        const Config *cfg = rq->srv->cfg;
        if (cfg->rate_per_s == 0)
                return 0;
        uint64_t wait_ms = 0;
        int r = hub_take_token(rq->srv->hub, rq->client, cfg->rate_per_s, cfg->rate_burst, &wait_ms);
        if (r != 0)
                return 0;
        char retry[24];
        uint64_t s = MAX((wait_ms + 999) / 1000, 1);
        snprintf(retry, sizeof retry, "%" PRIu64, s);
        char msg[160];
        snprintf(msg, sizeof msg, "too many submissions: at most %" PRIu64 " per second (bursts of %" PRIu64
                "); retry in %" PRIu64 " s", cfg->rate_per_s, cfg->rate_burst, s);
        respond_error_with(rq, 429, "rate_limited", NULL, "Retry-After", retry, msg);
        return -EBUSY;
}

static void h_submit(Request *rq)
{
        Server *srv = rq->srv;
        SubmissionRequest req = {};
        RequestError err = {};
        if (rate_limit(rq) < 0)
                return;
        if (submission_request_parse(rq->body, rq->body_len, srv->cfg, srv->langs, &req, &err) < 0) {
                respond_error(rq, (unsigned)err.http_status, err.code, err.field[0] ? err.field : NULL, "%s",
                        err.message);
                return;
        }
        bool wait;
        if (query_bool(rq, "wait", &wait) < 0) {
                submission_request_deinit(&req);
                return;
        }

        Uuid id;
        uuid7_new(&id);
        char ids[UUID_STRING_LEN + 1];
        uuid_format(&id, ids);

        /* Idempotency-Key: the key maps to "<sha256 of the body> <id>" for a day. */
        const char *key = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Idempotency-Key");
        char idem_key[128] = "";
        if (key) {
                size_t klen = strlen(key);
                bool printable = klen > 0 && klen <= IDEMPOTENCY_KEY_MAX;
                for (size_t i = 0; printable && i < klen; i++)
                        printable = key[i] >= 0x21 && key[i] <= 0x7e;
                if (!printable) {
                        submission_request_deinit(&req);
                        respond_error(rq, 422, "invalid_idempotency_key", "Idempotency-Key",
                                "Idempotency-Key must be 1-%d printable ASCII characters", IDEMPOTENCY_KEY_MAX);
                        return;
                }
                char khash[65], bhash[65], value[65 + 1 + UUID_STRING_LEN + 1];
                sha256_hex(key, klen, khash);
                sha256_hex(rq->body, rq->body_len, bhash);
                snprintf(idem_key, sizeof idem_key, "sentinel:idem:%s", khash);
                snprintf(value, sizeof value, "%s %s", bhash, ids);
                _cleanup_free_ char *existing = NULL;
                int r = hub_reserve(srv->hub, idem_key, value, IDEMPOTENCY_TTL_S, &existing);
                if (r < 0) {
                        submission_request_deinit(&req);
                        respond_error(rq, 503, "unavailable", NULL,
                                "idempotency keys are unavailable (Redis unreachable); retry");
                        return;
                }
                if (r == 1) {
                        submission_request_deinit(&req);
                        Uuid prev;
                        if (strlen(existing) != 64 + 1 + UUID_STRING_LEN || strncmp(existing, bhash, 64) != 0) {
                                respond_error(rq, 422, "idempotency_key_reused", "Idempotency-Key",
                                        "this Idempotency-Key was used with a different body");
                                return;
                        }
                        if (uuid_parse(existing + 65, UUID_STRING_LEN, &prev) < 0) {
                                respond_error(rq, 422, "idempotency_key_reused", "Idempotency-Key",
                                        "this Idempotency-Key was used with a different body");
                                return;
                        }
                        replay_submission(rq, &prev);
                        return;
                }
        }

        _cleanup_free_ char *limits = NULL, *args = NULL;
        json_t *lj = submission_request_limits_to_json(&req);
        limits = lj ? json_dumps(lj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(lj);
        if (req.args) {
                json_t *a = json_array();
                for (char **p = req.args; a && *p; p++)
                        json_array_append_new(a, json_string(*p));
                args = a ? json_dumps(a, JSON_COMPACT) : NULL;
                json_decref(a);
        }
        if (!limits || (req.args && !args)) {
                submission_request_deinit(&req);
                if (*idem_key)
                        hub_release(srv->hub, idem_key);
                respond_error(rq, 503, "unavailable", NULL, "out of memory; retry");
                return;
        }

        /* Watch before the row exists: the result event cannot come before the watch. */
        if (wait && request_watch(rq, &id) < 0)
                wait = false; /* out of memory: answer 202 at once */
        SubmissionRow row = {
                .id = &id,
                .client = rq->client,
                .language = req.language->id,
                .source = req.source,
                .stdin_data = req.stdin_data,
                .args_json = args,
                .expected_output = req.expected_output,
                .limits_json = limits,
                .max_active = srv->cfg->max_active_per_client,
        };
        int r = store_insert(srv->store, &row);
        submission_request_deinit(&req);
        if (r < 0) {
                if (*idem_key)
                        hub_release(srv->hub, idem_key);
                if (r == -EDQUOT) {
                        char msg[160];
                        snprintf(msg, sizeof msg, "too many jobs in flight: at most %" PRIu64
                                " queued or running per client; retry when one has finished",
                                srv->cfg->max_active_per_client);
                        respond_error_with(rq, 429, "too_many_active", NULL, "Retry-After", "1", msg);
                        return;
                }
                respond_error(rq, 503, "unavailable", NULL, "the database is unreachable; the submission was not accepted");
                return;
        }
        publisher_submit(srv->publisher, &id);
        char *body = accepted_body(&id, "QUEUED");
        if (!body) {
                respond_error(rq, 503, "unavailable", NULL, "out of memory");
                return;
        }
        if (!wait || srv->cfg->wait_max_ms == 0) {
                respond_json(rq, 202, body);
                return;
        }
        rq->deadline_ms = now_monotonic_ms() + srv->cfg->wait_max_ms;
        request_wait(rq, body);
}

static int path_uuid(Request *rq, Uuid *ret)
{
        if (uuid_parse(rq->path_id, strlen(rq->path_id), ret) < 0) {
                respond_error(rq, 400, "invalid_id", "id", "the id is not a UUID");
                return -EINVAL;
        }
        return 0;
}

static void h_get(Request *rq)
{
        Uuid id;
        if (path_uuid(rq, &id) < 0)
                return;
        char *json = result_cache_get(rq->srv->results, &id);
        if (json) {
                respond_json(rq, 200, json);
                return;
        }
        bool final = false;
        int r = store_get_json(rq->srv->store, &id, &json, &final);
        if (r == 0 && final)
                result_cache_put(rq->srv->results, &id, json, strlen(json));
        if (r == -ENOENT)
                respond_error(rq, 404, "not_found", "id", "no submission with this id");
        else if (r < 0)
                respond_error(rq, 503, "unavailable", NULL, "the database is unreachable; retry");
        else
                respond_json(rq, 200, json);
}

static void h_list(Request *rq)
{
        unsigned limit = HISTORY_DEFAULT;
        const char *l = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "limit");
        if (l) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(l, &end, 10);
                if (*l < '0' || *l > '9' || errno || *end || v < 1 || v > HISTORY_MAX) {
                        respond_error(rq, 422, "limit_out_of_range", "limit", "limit must be 1..%d", HISTORY_MAX);
                        return;
                }
                limit = (unsigned)v;
        }
        Uuid cursor;
        const char *c = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "cursor");
        if (c && uuid_parse(c, strlen(c), &cursor) < 0) {
                respond_error(rq, 422, "invalid_cursor", "cursor", "cursor must be the next_cursor of a previous page");
                return;
        }
        char *json = NULL;
        int r = store_list_json(rq->srv->store, limit, c ? &cursor : NULL, rq->keyed ? rq->client : NULL, &json);
        if (r < 0)
                respond_error(rq, 503, "unavailable", NULL, "the database is unreachable; retry");
        else
                respond_json(rq, 200, json);
}

static void h_languages(Request *rq)
{
        char *s = strdup(rq->srv->languages_json);
        if (s)
                respond_json(rq, 200, s);
}

static void h_health(Request *rq)
{
        char *s = strdup("{\"status\":\"ok\"}");
        if (s)
                respond_json(rq, 200, s);
}

static void h_ready(Request *rq)
{
        Server *srv = rq->srv;
        bool pg = store_ping(srv->store) == 0;
        bool mq = publisher_connected(srv->publisher);
        bool rd = hub_ping(srv->hub) == 0;
        if (pg && mq && rd) {
                json_t *o = json_pack("{s:s, s:{s:s, s:s, s:s}}", "status", "ready", "checks", "postgresql", "ok",
                        "rabbitmq", "ok", "redis", "ok");
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                json_decref(o);
                if (s)
                        respond_json(rq, 200, s);
                return;
        }
        char down[64] = "";
        if (!pg)
                strcat(down, "postgresql");
        if (!mq)
                strcat(strcat(down, *down ? ", " : ""), "rabbitmq");
        if (!rd)
                strcat(strcat(down, *down ? ", " : ""), "redis");
        json_t *o = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}}", "status", "unavailable", "checks",
                "postgresql", pg ? "ok" : "unreachable", "rabbitmq", mq ? "ok" : "unreachable", "redis",
                rd ? "ok" : "unreachable", "error", "code", "dependency_unavailable", "message", down);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (s)
                respond_json(rq, 503, s);
}

static void h_metrics(Request *rq)
{
        char *text = NULL;
        size_t len = 0;
        if (metrics_render(rq->srv->metrics, &text, &len) < 0) {
                respond_error(rq, 503, "unavailable", NULL, "out of memory");
                return;
        }
        respond_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

const Route server_routes[] = {
        {"POST", "/api/v1/submissions", h_submit, "submit", true},
        {"GET", "/api/v1/submissions", h_list, "list", false},
        {"GET", "/api/v1/submissions/{id}", h_get, "get", false},
        {"GET", "/api/v1/languages", h_languages, "languages", false},
        {"GET", "/health", h_health, "health", false},
        {"GET", "/ready", h_ready, "ready", false},
        {"GET", "/metrics", h_metrics, "metrics", false},
        {"GET", "/api/v1/config", static_config, "config", false},
        {"GET", "/", static_index, "page", false},
        {"GET", "/s/{id}", static_index, "page", false},
        {"GET", "/assets/{id}", static_asset, "asset", false},
};
const size_t server_n_routes = ELEMENTSOF(server_routes);
