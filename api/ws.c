/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket endpoint: the hub's events to browsers and other clients, in order. */
#include "ws.h"

#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cleanup.h"
#include "log.h"
#include "time-util.h"
#include "uuid.h"

/*
 * Threads. The service thread runs lws and is the only one that touches a `struct lws`. The hub's
 * thread appends events to a connection's queue and wakes the service thread (lws_cancel_service).
 * Lookup threads do what may block (hub_watch's Redis round trip, PostgreSQL), so that a slow or
 * unreachable database never stalls the connections that are streaming.
 *
 * A connection (Conn) is owned by references: one held by lws until LWS_CALLBACK_CLOSED, one per
 * queued or running lookup. Its hub watch is removed by whoever sees the other side gone: CLOSED
 * (the usual case), or the lookup that made the watch after CLOSED had run.
 */

#define PATH_PREFIX "/ws/submissions/"
/* Pending output per connection. The hub pushes without back-pressure, and a late subscriber gets a
 * job's whole stream at once, so a queue may well pass the soft limit while its client reads as fast
 * as it can. Above QUEUE_SOFT_BYTES a client must make progress: if no message goes out for
 * cfg->connection_timeout_s it is cut (1008 "too slow"). Above QUEUE_HARD_BYTES it is cut at once. */
#define QUEUE_SOFT_BYTES (4u << 20)
#define QUEUE_HARD_BYTES (64u << 20)
#define RX_MAX_BYTES     4096 /* clients have nothing to say; more than this ends the connection */
#define HEADER_MAX       1024 /* Origin or Host longer than this: refused, never truncated */
#define REPLAY_GRACE_MS  200  /* a final job's stream may replay this long before PostgreSQL answers */
#define DRAIN_MAX_MS     2000 /* ws_stop: time for close frames to go out */
#define KILL_AFTER_S     2    /* a connection told to close that cannot even take the close frame */
#define PING_IDLE_S      30   /* lws pings an idle client after this... */
#define HANGUP_IDLE_S    60   /* ...and hangs up if nothing (no pong) came back by this */
#define LOOKUP_THREADS   2

#define CLOSE_DONE     LWS_CLOSE_STATUS_NORMAL
#define CLOSE_POLICY   LWS_CLOSE_STATUS_POLICY_VIOLATION
#define CLOSE_INTERNAL LWS_CLOSE_STATUS_UNEXPECTED_CONDITION

typedef struct Message {
        struct Message *next;
        size_t len;
        uint16_t close_code; /* nonzero on the last message: the connection closes with it after */
        const char *close_reason;
        char data[]; /* LWS_PRE bytes of head room for lws, then the text */
} Message;

typedef enum Lookup {
        LOOKUP_OPEN,   /* watch the stream, then ask PostgreSQL for the status */
        LOOKUP_RESULT, /* the job was final and its stream did not replay: the result from PostgreSQL */
} Lookup;

typedef struct Conn Conn;
struct Conn {
        Ws *ws;
        Uuid id;
        char id_str[UUID_STRING_LEN + 1];
        atomic_uint refs;

        /* The hub's and the lookup threads' side, under `lock`. */
        pthread_mutex_t lock;
        HubWatch *watch;
        Message *head, *tail;
        size_t queued_bytes;
        bool ready;           /* PostgreSQL has answered: messages may go out */
        bool over_soft;       /* more than QUEUE_SOFT_BYTES pending */
        uint64_t progress_ms; /* when the last message went out (or the client came) */
        bool ended;           /* the last message is queued: nothing more is taken */
        bool closed;          /* lws has closed it: lookups stop */
        uint16_t abort_code;  /* close now with this (too slow, out of memory) */
        const char *abort_reason;

        /* The service thread's side. */
        struct lws *wsi;
        uint16_t close_code; /* the last message went out: close with this next */
        const char *close_reason;
        const char *end_label; /* why it ended, for the metric */
        bool going_away;
        bool kill_armed;
        bool timer_armed; /* the stall check, while over_soft */
        size_t rx_bytes;
        Conn *next; /* ws->conns */

        /* The lookup queue, under ws->jobs_lock. */
        Lookup lookup;
        uint64_t due_ms;
        Conn *job_next;
};

struct Ws {
        Server *srv;
        struct lws_context *ctx;
        pthread_t thread;
        bool thread_started;
        atomic_bool stop;         /* the service loop ends */
        atomic_bool draining;     /* ws_stop: close everything with 1001, refuse new clients */
        atomic_bool wake_pending; /* a wake-up is on its way to the service thread */

        pthread_mutex_t lock; /* conns, n_conns */
        pthread_cond_t drained;
        Conn *conns;
        unsigned n_conns;

        pthread_mutex_t jobs_lock;
        pthread_cond_t jobs_cond;      /* CLOCK_MONOTONIC */
        Conn *now_head, *now_tail;     /* lookups to run at once */
        Conn *later_head, *later_tail; /* result lookups after the grace; due times in order */
        bool jobs_stop;
        pthread_t lookups[LOOKUP_THREADS];
        unsigned n_lookups;
        uint64_t stall_ms; /* cfg->connection_timeout_s */

        Metric *m_connections, *m_messages, *m_refused, *m_closed;
};

/* ---- messages and the per-connection queue ---- */

static Message *message_new(const char *text, size_t len, uint16_t close_code, const char *close_reason)
{
        Message *m = malloc(sizeof *m + LWS_PRE + len);
        if (!m)
                return NULL;
        m->next = NULL;
        m->len = len;
        m->close_code = close_code;
        m->close_reason = close_reason;
        memcpy(m->data + LWS_PRE, text, len);
        return m;
}

static void queue_clear_locked(Conn *c)
{
        while (c->head) {
                Message *m = c->head;
                c->head = m->next;
                free(m);
        }
        c->tail = NULL;
        c->queued_bytes = 0;
}

/* Appends m (taking it), or drops it when the connection has ended. A queue that would pass
 * QUEUE_HARD_BYTES is dropped with the connection (1008); one message is always accepted into an
 * empty queue, so the bound is QUEUE_HARD_BYTES plus the largest event (the worker bounds those
 * through its output limits). */
static void queue_push_locked(Conn *c, Message *m)
{
        if (c->ended || c->abort_code) {
                free(m);
                return;
        }
        if (c->queued_bytes > 0 && c->queued_bytes + m->len > QUEUE_HARD_BYTES) {
                free(m);
                queue_clear_locked(c);
                c->abort_code = CLOSE_POLICY;
                c->abort_reason = "too slow";
                return;
        }
        if (c->tail)
                c->tail->next = m;
        else
                c->head = m;
        c->tail = m;
        c->queued_bytes += m->len;
        if (c->queued_bytes > QUEUE_SOFT_BYTES)
                c->over_soft = true;
        if (m->close_code)
                c->ended = true;
}

static void conn_abort_locked(Conn *c, uint16_t code, const char *reason)
{
        if (!c->abort_code) {
                queue_clear_locked(c);
                c->abort_code = code;
                c->abort_reason = reason;
        }
}

/* Wakes the service thread; many wake-ups before it runs cost one. */
static void ws_wake(Ws *ws)
{
        if (!atomic_exchange(&ws->wake_pending, true))
                lws_cancel_service(ws->ctx);
}

static void conn_ref(Conn *c)
{
        atomic_fetch_add(&c->refs, 1);
}

static void conn_unref(Conn *c)
{
        if (atomic_fetch_sub(&c->refs, 1) != 1)
                return;
        queue_clear_locked(c); /* last reference: nobody else can hold the lock */
        pthread_mutex_destroy(&c->lock);
        free(c);
}

/* The hub's callback (hub thread, hub locked): copy, queue, wake. */
static void on_event(void *userdata, const char *json, size_t len, bool final)
{
        Conn *c = userdata;
        Message *m = message_new(json, len, final ? CLOSE_DONE : 0, final ? "done" : NULL);
        pthread_mutex_lock(&c->lock);
        if (m)
                queue_push_locked(c, m);
        else
                conn_abort_locked(c, CLOSE_INTERNAL, "out of memory");
        pthread_mutex_unlock(&c->lock);
        ws_wake(c->ws);
}

/* A JSON object as the connection's last message. Caller holds c->lock. */
static void queue_end_json_locked(Conn *c, json_t *o, uint16_t close_code, const char *reason)
{
        _cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        Message *m = text ? message_new(text, strlen(text), close_code, reason) : NULL;
        if (m)
                queue_push_locked(c, m);
        else
                conn_abort_locked(c, CLOSE_INTERNAL, "out of memory");
}

/* {"type":"error","error":{"code":..., "message":...}}, then the close. Caller holds c->lock. */
static void queue_error_locked(Conn *c, const char *code, const char *message, uint16_t close_code)
{
        json_auto_t *o =
                json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "code", code, "message", message);
        /* An error replaces whatever the stream queued: the client must see why it is closed. */
        queue_clear_locked(c);
        queue_end_json_locked(c, o, close_code, code);
}

/* ---- lookups (their own threads: they may block) ---- */

static void job_queue(Ws *ws, Conn *c, Lookup what, uint64_t delay_ms)
{
        conn_ref(c);
        c->lookup = what;
        c->due_ms = now_monotonic_ms() + delay_ms;
        c->job_next = NULL;
        pthread_mutex_lock(&ws->jobs_lock);
        /* One fixed delay keeps the later list in due order. */
        Conn **head = delay_ms ? &ws->later_head : &ws->now_head,
             **tail = delay_ms ? &ws->later_tail : &ws->now_tail;
        if (*tail)
                (*tail)->job_next = c;
        else
                *head = c;
        *tail = c;
        pthread_cond_signal(&ws->jobs_cond);
        pthread_mutex_unlock(&ws->jobs_lock);
}

static Conn *job_pop(Conn **head, Conn **tail)
{
        Conn *c = *head;
        *head = c->job_next;
        if (!*head)
                *tail = NULL;
        c->job_next = NULL;
        return c;
}

static void lookup_open(Conn *c)
{
        Server *srv = c->ws->srv;

        pthread_mutex_lock(&c->lock);
        bool closed = c->closed;
        pthread_mutex_unlock(&c->lock);
        if (closed)
                return;

        /* Watch first: the stream replays from its start, so nothing that happens between the look
         * at PostgreSQL and the watch can be missed. */
        HubWatch *w = hub_watch(srv->hub, &c->id, on_event, c);
        pthread_mutex_lock(&c->lock);
        if (c->closed) {
                pthread_mutex_unlock(&c->lock);
                hub_unwatch(srv->hub, w);
                return;
        }
        c->watch = w;
        if (!w)
                conn_abort_locked(c, CLOSE_INTERNAL, "out of memory");
        pthread_mutex_unlock(&c->lock);
        if (!w) {
                ws_wake(c->ws);
                return;
        }

        _cleanup_free_ char *status = NULL;
        int r = store_get_status(srv->store, &c->id, &status);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "ws: submission=%s: status lookup failed", c->id_str);

        bool final = false;
        pthread_mutex_lock(&c->lock);
        if (r == -ENOENT)
                queue_error_locked(c, "not_found", "no submission with this id", CLOSE_POLICY);
        else if (r < 0)
                queue_error_locked(
                        c, "unavailable", "the database is unreachable; try again", CLOSE_INTERNAL);
        else if (strcmp(status, "QUEUED") == 0) {
                /* The stream starts at RUNNING; QUEUED comes from PostgreSQL and goes first even if
                 * the stream already delivered something (nothing is sent before `ready`). */
                static const char queued[] = "{\"type\":\"status\",\"status\":\"QUEUED\"}";
                Message *m = message_new(queued, sizeof queued - 1, 0, NULL);
                if (!m)
                        conn_abort_locked(c, CLOSE_INTERNAL, "out of memory");
                else if (!c->ended && !c->abort_code) {
                        m->next = c->head;
                        c->head = m;
                        if (!c->tail)
                                c->tail = m;
                        c->queued_bytes += m->len;
                } else
                        free(m);
        } else if (strcmp(status, "RUNNING") != 0)
                final = !c->ended; /* final, and the stream has not delivered the result (yet) */
        c->ready = true;
        pthread_mutex_unlock(&c->lock);

        /* A final job whose stream is still kept replays up to its result within the grace; one whose
         * stream expired gets its result from PostgreSQL. */
        if (final)
                job_queue(c->ws, c, LOOKUP_RESULT, REPLAY_GRACE_MS);
        ws_wake(c->ws);
}

static void lookup_result(Conn *c)
{
        pthread_mutex_lock(&c->lock);
        bool skip = c->closed || c->ended || c->abort_code;
        pthread_mutex_unlock(&c->lock);
        if (skip)
                return;

        _cleanup_free_ char *json = NULL;
        int r = store_get_json(c->ws->srv->store, &c->id, &json, NULL);
        json_auto_t *result = NULL;
        if (r >= 0) {
                json_error_t e;
                result = json_loads(json, 0, &e);
                if (!result)
                        r = log_warning_errno(
                                -EBADMSG, "ws: submission=%s: unreadable row: %s", c->id_str, e.text);
        } else if (r != -ENOENT)
                log_warning_errno(r, "ws: submission=%s: result lookup failed", c->id_str);

        pthread_mutex_lock(&c->lock);
        if (c->ended) /* the stream's result came meanwhile */
                ;
        else if (r == -ENOENT)
                queue_error_locked(c, "not_found", "no submission with this id", CLOSE_POLICY);
        else if (r == -EAGAIN)
                queue_error_locked(
                        c, "unavailable", "the database is unreachable; try again", CLOSE_INTERNAL);
        else if (r < 0)
                queue_error_locked(c, "internal", "the result could not be read", CLOSE_INTERNAL);
        else {
                json_auto_t *o = json_pack("{s:s, s:O}", "type", "result", "result", result);
                queue_end_json_locked(c, o, CLOSE_DONE, "done");
        }
        pthread_mutex_unlock(&c->lock);
        ws_wake(c->ws);
}

static void *lookup_main(void *arg)
{
        Ws *ws = arg;
        pthread_mutex_lock(&ws->jobs_lock);
        for (;;) {
                if (ws->jobs_stop)
                        break;
                Conn *c = NULL;
                if (ws->now_head)
                        c = job_pop(&ws->now_head, &ws->now_tail);
                else if (ws->later_head) {
                        uint64_t due = ws->later_head->due_ms;
                        if (now_monotonic_ms() >= due)
                                c = job_pop(&ws->later_head, &ws->later_tail);
                        else {
                                struct timespec ts = {.tv_sec = (time_t)(due / 1000),
                                        .tv_nsec = (long)(due % 1000) * 1000000L};
                                pthread_cond_timedwait(&ws->jobs_cond, &ws->jobs_lock, &ts);
                        }
                } else
                        pthread_cond_wait(&ws->jobs_cond, &ws->jobs_lock);
                if (!c)
                        continue;
                pthread_mutex_unlock(&ws->jobs_lock);
                if (c->lookup == LOOKUP_OPEN)
                        lookup_open(c);
                else
                        lookup_result(c);
                conn_unref(c);
                pthread_mutex_lock(&ws->jobs_lock);
        }
        pthread_mutex_unlock(&ws->jobs_lock);
        return NULL;
}

/* ---- the upgrade: path, Origin, capacity ---- */

/* A request header's whole value into *ret (caller frees): 1, or 0 when absent, -E2BIG when longer
 * than max, -ENOMEM. */
static int header_dup(struct lws *wsi, enum lws_token_indexes token, size_t max, char **ret)
{
        int n = lws_hdr_total_length(wsi, token);
        if (n <= 0)
                return 0;
        if ((size_t)n > max)
                return -E2BIG;
        _cleanup_free_ char *s = malloc((size_t)n + 1);
        if (!s)
                return -ENOMEM;
        if (lws_hdr_copy(wsi, s, n + 1, token) < 0)
                return -E2BIG;
        *ret = TAKE_PTR(s);
        return 1;
}

/* The submission id of a request path: 0, -ENOENT for another path (404), -EINVAL for a bad id (400). */
static int path_id(const char *path, Uuid *ret)
{
        size_t n = strlen(PATH_PREFIX);
        if (strncmp(path, PATH_PREFIX, n) != 0)
                return -ENOENT;
        return uuid_parse(path + n, strlen(path + n), ret) < 0 ? -EINVAL : 0;
}

static bool origin_in_list(const char *origin, const char *list)
{
        size_t olen = strlen(origin);
        for (const char *p = list; *p;) {
                p += strspn(p, ", \t");
                size_t n = strcspn(p, ",");
                size_t m = n;
                while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
                        m--;
                if (m > 0 && m == olen && strncasecmp(p, origin, m) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* SENTINEL_WS_ORIGINS: "*" any; "" the Origin must name the host the client connected to (the Host
 * header), on this port or on the REST API's port (the browser editor is served there); otherwise a
 * comma-separated list of exact origins. No Origin (not a browser): allowed, since the check exists
 * to stop other sites' pages from reading streams with a visitor's browser. */
static bool origin_allowed(const char *allowed, uint64_t api_port, struct lws *wsi)
{
        _cleanup_free_ char *origin = NULL, *host = NULL;
        int r = header_dup(wsi, WSI_TOKEN_ORIGIN, HEADER_MAX, &origin);
        if (r == 0)
                return true;
        if (r < 0)
                return false;
        if (strcmp(allowed, "*") == 0)
                return true;
        if (*allowed)
                return origin_in_list(origin, allowed);
        if (header_dup(wsi, WSI_TOKEN_HOST, HEADER_MAX, &host) <= 0 || !*host)
                return false;
        const char *rest;
        if (strncasecmp(origin, "http://", 7) == 0)
                rest = origin + 7;
        else if (strncasecmp(origin, "https://", 8) == 0)
                rest = origin + 8;
        else
                return false; /* "null", file:, extensions... */
        if (strcasecmp(rest, host) == 0)
                return true;
        /* Same host name (an IPv6 literal ends at its ']'), the API's port. */
        const char *rb = rest[0] == '[' ? strchr(rest, ']') : rest;
        const char *hb = host[0] == '[' ? strchr(host, ']') : host;
        if (!rb || !hb)
                return false;
        size_t rn = (size_t)(rb - rest) + strcspn(rb, ":"), hn = (size_t)(hb - host) + strcspn(hb, ":");
        char port[24];
        snprintf(port, sizeof port, ":%" PRIu64, api_port);
        return rn == hn && strncasecmp(rest, host, rn) == 0 && strcmp(rest + rn, port) == 0;
}

static void count(Metric *m, const char *label)
{
        const char *labels[] = {label};
        metrics_counter_add(m, 1, labels);
}

/* A short JSON response on an HTTP wsi (headers and body written at once). 0, or -1 to hang up. */
static int http_reply(struct lws *wsi, unsigned status, const char *body)
{
        unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        size_t len = strlen(body);
        if (len > (size_t)(end - start))
                return -1;
        if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)len, &p, end) ||
                lws_finalize_write_http_header(wsi, start, &p, end))
                return -1;
        memcpy(start, body, len);
        return lws_write(wsi, start, len, LWS_WRITE_HTTP_FINAL) == (int)len ? 0 : -1;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 lets the upgrade go on; 1 after an HTTP refusal was written;
 * -1 hangs up. */
static int confirm_upgrade(Ws *ws, struct lws *wsi)
{
        const char *label, *body;
        unsigned status;
        _cleanup_free_ char *path = NULL;
        Uuid id;
        int r = header_dup(wsi, WSI_TOKEN_GET_URI, 256, &path);
        r = r > 0 ? path_id(path, &id) : -ENOENT;
        if (r == -ENOENT) {
                status = HTTP_STATUS_NOT_FOUND, label = "not_found";
                body = "{\"error\":{\"code\":\"not_found\",\"message\":\"WebSockets are served at "
                       "/ws/submissions/{id}\"}}";
        } else if (r < 0) {
                status = HTTP_STATUS_BAD_REQUEST, label = "bad_id";
                body = "{\"error\":{\"code\":\"invalid_id\",\"message\":\"the submission id is not a "
                       "UUID\"}}";
        } else if (!origin_allowed(ws->srv->cfg->ws_origins, ws->srv->cfg->api_port, wsi)) {
                status = HTTP_STATUS_FORBIDDEN, label = "origin";
                body = "{\"error\":{\"code\":\"origin_not_allowed\",\"message\":\"this Origin may not open "
                       "WebSockets here (SENTINEL_WS_ORIGINS)\"}}";
        } else {
                pthread_mutex_lock(&ws->lock);
                bool full = ws->n_conns >= ws->srv->cfg->max_connections;
                pthread_mutex_unlock(&ws->lock);
                if (!full && !atomic_load(&ws->draining))
                        return 0;
                status = HTTP_STATUS_SERVICE_UNAVAILABLE, label = full ? "full" : "stopping";
                body = full ? "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many "
                              "WebSocket connections\"}}"
                            : "{\"error\":{\"code\":\"unavailable\",\"message\":\"the server is "
                              "stopping\"}}";
        }
        log_debug("ws: upgrade refused with %u (%s)", status, label);
        count(ws->m_refused, label);
        return http_reply(wsi, status, body) < 0 ? -1 : 1;
}

/* ---- the service thread ---- */

static int conn_establish(Ws *ws, struct lws *wsi, Conn **slot)
{
        _cleanup_free_ char *path = NULL;
        Uuid id;
        if (atomic_load(&ws->draining) || header_dup(wsi, WSI_TOKEN_GET_URI, 256, &path) <= 0 ||
                path_id(path, &id) < 0)
                return -1;
        Conn *c = calloc(1, sizeof *c);
        if (!c)
                return -1;
        c->ws = ws;
        c->wsi = wsi;
        c->id = id;
        uuid_format(&id, c->id_str);
        atomic_init(&c->refs, 1);
        pthread_mutex_init(&c->lock, NULL);
        c->progress_ms = now_monotonic_ms();
        *slot = c;

        pthread_mutex_lock(&ws->lock);
        c->next = ws->conns;
        ws->conns = c;
        ws->n_conns++;
        pthread_mutex_unlock(&ws->lock);
        metrics_gauge_add(ws->m_connections, 1, NULL);
        log_debug("ws: submission=%s: client connected", c->id_str);
        job_queue(ws, c, LOOKUP_OPEN, 0);
        return 0;
}

/* Closing from the service thread: the reason goes in the close frame, then lws closes on -1. */
static int conn_close(Conn *c, uint16_t code, const char *reason, const char *label)
{
        lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
        c->end_label = label;
        return -1;
}

static int conn_writeable(Ws *ws, Conn *c)
{
        if (c->going_away)
                return conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server stopping", "going_away");
        if (c->close_code)
                return conn_close(c, c->close_code, c->close_reason, c->close_reason);

        pthread_mutex_lock(&c->lock);
        uint16_t abort_code = c->abort_code;
        const char *abort_reason = c->abort_reason;
        Message *m = NULL;
        if (!abort_code && c->ready && c->head) {
                m = c->head;
                c->head = m->next;
                if (!c->head)
                        c->tail = NULL;
                c->queued_bytes -= m->len;
                c->progress_ms = now_monotonic_ms();
                c->over_soft = c->queued_bytes > QUEUE_SOFT_BYTES;
        }
        bool more = c->ready && c->head;
        pthread_mutex_unlock(&c->lock);

        if (abort_code) {
                log_info("ws: submission=%s: closing: %s", c->id_str, abort_reason);
                return conn_close(
                        c, abort_code, abort_reason, abort_code == CLOSE_POLICY ? "too_slow" : "internal");
        }
        if (!m)
                return 0;
        /* lws keeps what the socket does not take and holds the next WRITEABLE until it is out. */
        int n = lws_write(c->wsi, (unsigned char *)m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
        if (m->close_code) {
                c->close_code = m->close_code;
                c->close_reason = m->close_reason;
        }
        free(m);
        if (n < 0) {
                c->end_label = "write_failed";
                return -1;
        }
        metrics_counter_add(ws->m_messages, 1, NULL);
        if (more || c->close_code)
                lws_callback_on_writable(c->wsi);
        return 0;
}

/* LWS_CALLBACK_TIMER: the stall check of a connection over the soft limit. */
static void conn_stall_check(Ws *ws, Conn *c)
{
        c->timer_armed = false;
        uint64_t now = now_monotonic_ms();
        pthread_mutex_lock(&c->lock);
        bool over = c->over_soft && !c->abort_code;
        uint64_t idle = now - c->progress_ms;
        if (over && idle >= ws->stall_ms)
                conn_abort_locked(c, CLOSE_POLICY, "too slow");
        pthread_mutex_unlock(&c->lock);
        if (over && idle < ws->stall_ms) {
                c->timer_armed = true;
                lws_set_timer_usecs(c->wsi, (lws_usec_t)(ws->stall_ms - idle) * 1000);
        } else if (over) {
                c->kill_armed = true;
                c->end_label = "too_slow";
                lws_callback_on_writable(c->wsi);
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, KILL_AFTER_S);
        }
}

/* Woken by the hub or a lookup (or ws_stop): every connection with something to do asks to write. */
static void conns_wake(Ws *ws)
{
        atomic_store(&ws->wake_pending, false);
        bool draining = atomic_load(&ws->draining);
        pthread_mutex_lock(&ws->lock);
        for (Conn *c = ws->conns; c; c = c->next) {
                pthread_mutex_lock(&c->lock);
                uint16_t abort_code = c->abort_code;
                bool abort = abort_code != 0;
                bool pending = abort || (c->ready && c->head);
                bool over_soft = c->over_soft;
                pthread_mutex_unlock(&c->lock);
                if (over_soft && !c->timer_armed) {
                        c->timer_armed = true;
                        lws_set_timer_usecs(c->wsi, (lws_usec_t)ws->stall_ms * 1000);
                }
                if (draining && !c->going_away) {
                        c->going_away = true;
                        c->end_label = "going_away";
                        pending = abort = true;
                } else if (abort && !c->end_label)
                        c->end_label = abort_code == CLOSE_POLICY ? "too_slow" : "internal";
                if (pending)
                        lws_callback_on_writable(c->wsi);
                /* A client that does not read may never make its socket writeable: the close frame
                 * is tried, and the connection is cut after KILL_AFTER_S regardless. */
                if (abort && !c->kill_armed) {
                        c->kill_armed = true;
                        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, KILL_AFTER_S);
                }
        }
        pthread_mutex_unlock(&ws->lock);
}

static void conn_closed(Ws *ws, Conn *c)
{
        pthread_mutex_lock(&c->lock);
        c->closed = true;
        HubWatch *w = TAKE_PTR(c->watch);
        pthread_mutex_unlock(&c->lock);
        /* After this returns the hub never calls on_event for c again. */
        hub_unwatch(ws->srv->hub, w);

        pthread_mutex_lock(&ws->lock);
        for (Conn **p = &ws->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        ws->n_conns--;
        if (ws->n_conns == 0)
                pthread_cond_broadcast(&ws->drained);
        pthread_mutex_unlock(&ws->lock);
        metrics_gauge_add(ws->m_connections, -1, NULL);
        count(ws->m_closed, c->end_label ? c->end_label : "client");
        log_debug(
                "ws: submission=%s: closed (%s)", c->id_str, c->end_label ? c->end_label : "by the client");
        c->wsi = NULL;
        conn_unref(c);
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
        Ws *ws = lws_context_user(lws_get_context(wsi));
        Conn **slot = user;
        Conn *c = slot ? *slot : NULL;

        switch (reason) {
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
                if (!in || strcasecmp(in, "websocket") != 0) /* h2c and the like */
                        return -1;
                return confirm_upgrade(ws, wsi);
        case LWS_CALLBACK_ESTABLISHED:
                return slot ? conn_establish(ws, wsi, slot) : -1;
        case LWS_CALLBACK_SERVER_WRITEABLE:
                return c ? conn_writeable(ws, c) : -1;
        case LWS_CALLBACK_RECEIVE:
                /* Nothing a client says means anything here (control frames are lws's business). */
                if (c && (c->rx_bytes += len) > RX_MAX_BYTES)
                        return conn_close(
                                c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "clients send nothing", "too_large");
                return 0;
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
                conns_wake(ws);
                return 0;
        case LWS_CALLBACK_TIMER:
                if (c)
                        conn_stall_check(ws, c);
                return 0;
        case LWS_CALLBACK_CLOSED:
                if (c) {
                        *slot = NULL;
                        conn_closed(ws, c);
                }
                return 0;
        case LWS_CALLBACK_HTTP: {
                /* Plain HTTP on this port: /health for probes; the WebSocket path wants an upgrade. */
                const char *path = in ? in : "";
                int r;
                if (strcmp(path, "/health") == 0)
                        r = http_reply(wsi, HTTP_STATUS_OK, "{\"status\":\"ok\"}");
                else if (strncmp(path, PATH_PREFIX, strlen(PATH_PREFIX)) == 0)
                        r = http_reply(wsi, 426,
                                "{\"error\":{\"code\":\"upgrade_required\",\"message\":\"open a WebSocket "
                                "on this path\"}}");
                else
                        r = http_reply(wsi, HTTP_STATUS_NOT_FOUND,
                                "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}");
                if (r < 0 || lws_http_transaction_completed(wsi))
                        return -1;
                return 0;
        }
        default:
                break;
        }
        return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
        {"sentinel-events", on_lws, sizeof(Conn *), RX_MAX_BYTES, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Idle connections are pinged, and dropped when no pong comes back (a vanished client). */
static const lws_retry_bo_t idle_policy = {
        .secs_since_valid_ping = PING_IDLE_S,
        .secs_since_valid_hangup = HANGUP_IDLE_S,
};

/* lws's own log: its warnings and errors are mostly about what clients sent (bad handshakes), so
 * they are debug records; failures that matter are reported by this module. */
static void lws_log(int level, const char *line)
{
        int n = (int)strcspn(line, "\n");
        log_debug("libwebsockets[%s]: %.*s", level & LLL_ERR ? "error" : "warning", n, line);
}

static void *service_main(void *arg)
{
        Ws *ws = arg;
        while (!atomic_load(&ws->stop))
                if (lws_service(ws->ctx, 0) < 0)
                        break;
        return NULL;
}

static void register_metrics(Ws *ws, MetricsRegistry *reg)
{
        static const char *const reason[] = {"reason", NULL};
        if (!reg)
                return;
        /* A second ws_start on one registry (tests) finds the families taken: it goes without. */
        if (metrics_gauge_new(reg, "sentinel_ws_connections", "open WebSocket connections", NULL,
                    &ws->m_connections) < 0 ||
                metrics_counter_new(reg, "sentinel_ws_messages_total", "WebSocket messages sent", NULL,
                        &ws->m_messages) < 0 ||
                metrics_counter_new(reg, "sentinel_ws_refused_total",
                        "WebSocket upgrades refused (not_found, bad_id, origin, full, stopping)", reason,
                        &ws->m_refused) < 0 ||
                metrics_counter_new(reg, "sentinel_ws_closed_total",
                        "WebSocket connections closed, by why (done, not_found, unavailable, too_slow, "
                        "too_large, going_away, client...)",
                        reason, &ws->m_closed) < 0)
                log_debug("ws: metrics not registered");
}

static void ws_free(Ws *ws)
{
        if (ws->ctx)
                lws_context_destroy(ws->ctx);
        pthread_mutex_destroy(&ws->lock);
        pthread_cond_destroy(&ws->drained);
        pthread_mutex_destroy(&ws->jobs_lock);
        pthread_cond_destroy(&ws->jobs_cond);
        free(ws);
}

/* Starts the WebSocket endpoint on srv->cfg->listen_address:ws_port: its lws context, its service
 * thread and LOOKUP_THREADS lookup threads. srv (cfg, hub, store; metrics optional) must outlive the
 * returned Ws, which the caller stops with ws_stop(). Returns 0, -EINVAL without a hub or store,
 * -EADDRINUSE when lws cannot listen (lws gives no reason; busy ports are the usual one), -ENOMEM,
 * or another negative errno from pthread_create. */
int ws_start(Server *srv, Ws **ret)
{
        if (!srv || !srv->cfg || !srv->hub || !srv->store)
                return -EINVAL;
        Ws *ws = calloc(1, sizeof *ws);
        if (!ws)
                return -ENOMEM;
        ws->srv = srv;
        ws->stall_ms = srv->cfg->connection_timeout_s * 1000;
        pthread_mutex_init(&ws->lock, NULL);
        pthread_cond_init(&ws->drained, NULL);
        pthread_mutex_init(&ws->jobs_lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&ws->jobs_cond, &ca);
        pthread_condattr_destroy(&ca);
        register_metrics(ws, srv->metrics);

        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
        const Config *cfg = srv->cfg;
        struct lws_context_creation_info info = {};
        info.port = (int)cfg->ws_port;
        info.iface = cfg->listen_address;
        info.protocols = protocols;
        info.user = ws;
        info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
                       LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
        if (!strchr(cfg->listen_address, ':'))
                info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
        info.timeout_secs = (unsigned)cfg->connection_timeout_s; /* handshakes and plain HTTP */
        info.max_http_header_data = 4096;
        info.retry_and_idle_policy = &idle_policy;
        info.fd_limit_per_thread = (unsigned)cfg->max_connections + 64;
        ws->ctx = lws_create_context(&info);
        if (!ws->ctx) {
                ws_free(ws);
                return log_error_errno(-EADDRINUSE, "cannot listen on %s:%" PRIu64 " for WebSockets",
                        cfg->listen_address, cfg->ws_port);
        }

        int r;
        for (; ws->n_lookups < LOOKUP_THREADS; ws->n_lookups++) {
                r = pthread_create(&ws->lookups[ws->n_lookups], NULL, lookup_main, ws);
                if (r != 0) {
                        ws_stop(ws);
                        return log_error_errno(-r, "ws: cannot start a thread");
                }
        }
        r = pthread_create(&ws->thread, NULL, service_main, ws);
        if (r != 0) {
                ws_stop(ws);
                return log_error_errno(-r, "ws: cannot start a thread");
        }
        ws->thread_started = true;
        bool v6 = strchr(cfg->listen_address, ':');
        log_info("WebSocket on ws://%s%s%s:%" PRIu64 "/ws/submissions/{id}", v6 ? "[" : "",
                cfg->listen_address, v6 ? "]" : "", cfg->ws_port);
        *ret = ws;
        return 0;
}

/* Stops the endpoint: new upgrades are refused, every connection gets a 1001 close (clients that
 * cannot take it within DRAIN_MAX_MS are cut), the threads are joined, every watch is removed
 * and everything is freed. Call before hub_stop(). Accepts NULL. */
void ws_stop(Ws *ws)
{
        if (!ws)
                return;
        if (ws->thread_started) {
                atomic_store(&ws->draining, true);
                lws_cancel_service(ws->ctx);
                uint64_t deadline = now_monotonic_ns() + DRAIN_MAX_MS * 1000000ull;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += DRAIN_MAX_MS / 1000;
                ts.tv_nsec += (DRAIN_MAX_MS % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L)
                        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
                pthread_mutex_lock(&ws->lock);
                while (ws->n_conns > 0 && now_monotonic_ns() < deadline)
                        if (pthread_cond_timedwait(&ws->drained, &ws->lock, &ts) == ETIMEDOUT)
                                break;
                unsigned left = ws->n_conns;
                pthread_mutex_unlock(&ws->lock);
                if (left)
                        log_info("ws: %u connections did not close within %d ms; cutting them", left,
                                DRAIN_MAX_MS);
                atomic_store(&ws->stop, true);
                lws_cancel_service(ws->ctx);
                pthread_join(ws->thread, NULL);
        }

        pthread_mutex_lock(&ws->jobs_lock);
        ws->jobs_stop = true;
        pthread_cond_broadcast(&ws->jobs_cond);
        pthread_mutex_unlock(&ws->jobs_lock);
        for (unsigned i = 0; i < ws->n_lookups; i++)
                pthread_join(ws->lookups[i], NULL);
        while (ws->now_head)
                conn_unref(job_pop(&ws->now_head, &ws->now_tail));
        while (ws->later_head)
                conn_unref(job_pop(&ws->later_head, &ws->later_tail));

        /* No thread makes watches any more; remove the remaining ones before lws frees their
         * connections, so that no hub callback can run against a context being destroyed. */
        for (Conn *c = ws->conns; c; c = c->next) {
                pthread_mutex_lock(&c->lock);
                c->closed = true;
                HubWatch *w = TAKE_PTR(c->watch);
                pthread_mutex_unlock(&c->lock);
                hub_unwatch(ws->srv->hub, w);
        }
        ws_free(ws); /* lws_context_destroy: CLOSED for every connection left */
}
