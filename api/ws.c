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
#include "uuid.h"

#define PATH_PREFIX "/ws/submissions/"
#define QUEUE_MAX_BYTES (4u << 20) /* a client that does not read loses its connection past this */
#define RX_MAX_BYTES 4096          /* clients have nothing to say; a few KiB ends the connection */
#define PG_GRACE_US 300000         /* a finished job's stream gets this long to replay */

typedef struct Message {
        struct Message *next;
        size_t len;
        bool final;
        char data[]; /* LWS_PRE bytes of head room, then the text */
} Message;

typedef struct Conn {
        struct Ws *ws;
        struct lws *wsi;
        Uuid id;
        HubWatch *watch;
        pthread_mutex_t lock; /* the queue: the hub thread appends, the service thread takes */
        Message *head, *tail;
        size_t queued_bytes;
        bool too_slow;
        bool got_final;       /* the result was queued */
        bool sent_final;      /* the result went out: close next */
        bool pg_final;        /* PostgreSQL said final at connect: fall back to it if no stream */
        size_t rx_bytes;
        struct Conn *next;    /* all connections, for the wake-up walk */
} Conn;

struct Ws {
        Server *srv;
        struct lws_context *ctx;
        pthread_t thread;
        atomic_bool stop;
        pthread_mutex_t lock; /* conns */
        Conn *conns;
        unsigned n_conns;
};

static Message *message_new(const char *text, size_t len, bool final)
{
        Message *m = malloc(sizeof *m + LWS_PRE + len);
        if (!m)
                return NULL;
        m->next = NULL;
        m->len = len;
        m->final = final;
        memcpy(m->data + LWS_PRE, text, len);
        return m;
}

/* Caller holds c->lock. */
static void enqueue_locked(Conn *c, Message *m)
{
        if (c->got_final) { /* nothing after the result */
                free(m);
                return;
        }
        if (c->queued_bytes + m->len > QUEUE_MAX_BYTES) {
                c->too_slow = true;
                free(m);
                return;
        }
        if (c->tail)
                c->tail->next = m;
        else
                c->head = m;
        c->tail = m;
        c->queued_bytes += m->len;
        if (m->final)
                c->got_final = true;
}

static void enqueue_text(Conn *c, const char *text, bool final)
{
        Message *m = message_new(text, strlen(text), final);
        if (!m)
                return;
        pthread_mutex_lock(&c->lock);
        enqueue_locked(c, m);
        pthread_mutex_unlock(&c->lock);
}

/* The hub's callback (hub thread, hub locked): copy, queue, wake the service thread. */
static void on_event(void *userdata, const char *json, size_t len, bool final)
{
        Conn *c = userdata;
        Message *m = message_new(json, len, final);
        if (!m)
                return;
        pthread_mutex_lock(&c->lock);
        enqueue_locked(c, m);
        pthread_mutex_unlock(&c->lock);
        lws_cancel_service(c->ws->ctx);
}

static void send_error(Conn *c, const char *code, const char *message)
{
        json_t *o = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "code", code, "message", message);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (text)
                enqueue_text(c, text, true);
        free(text);
}

/* The result from PostgreSQL, for a client that came after the job's stream expired. */
static void send_result_from_db(Conn *c)
{
        _cleanup_free_ char *json = NULL;
        int r = store_get_json(c->ws->srv->store, &c->id, &json);
        if (r < 0) {
                send_error(c, r == -ENOENT ? "not_found" : "unavailable",
                        r == -ENOENT ? "no submission with this id" : "the database is unreachable");
                return;
        }
        json_error_t e;
        json_t *res = json_loads(json, 0, &e);
        json_t *o = res ? json_pack("{s:s, s:o}", "type", "result", "result", res) : NULL;
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(o);
        if (text)
                enqueue_text(c, text, true);
        free(text);
}

static bool origin_allowed(Ws *ws, struct lws *wsi)
{
        char origin[256] = "", host[256] = "";
        if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
                return true; /* not a browser: nothing to check */
        const char *allowed = ws->srv->cfg->ws_origins;
        if (strcmp(allowed, "*") == 0)
                return true;
        if (!*allowed) {
                /* Same host: the Origin's host[:port] must be the Host header. */
                if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
                        return false;
                const char *o = strstr(origin, "://");
                return o && strcasecmp(o + 3, host) == 0;
        }
        size_t olen = strlen(origin);
        for (const char *p = allowed; *p;) {
                size_t n = strcspn(p, ",");
                while (n > 0 && p[n - 1] == ' ')
                        n--;
                if (n == olen && strncasecmp(p, origin, n) == 0)
                        return true;
                p += strcspn(p, ",");
                while (*p == ',' || *p == ' ')
                        p++;
        }
        return false;
}

static int on_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
        struct lws_context *ctx = lws_get_context(wsi);
        Ws *ws = lws_context_user(ctx);
        Conn **slot = user;
        Conn *c = slot ? *slot : NULL;

        switch (reason) {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
                char uri[256];
                Uuid id;
                int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
                if (n <= 0 || strncmp(uri, PATH_PREFIX, strlen(PATH_PREFIX)) != 0 ||
                    uuid_parse(uri + strlen(PATH_PREFIX), strlen(uri + strlen(PATH_PREFIX)), &id) < 0) {
                        log_debug("ws: refused %.64s: not /ws/submissions/{id}", n > 0 ? uri : "?");
                        return -1;
                }
                if (!origin_allowed(ws, wsi)) {
                        log_info("ws: refused an Origin not in SENTINEL_WS_ORIGINS");
                        return -1;
                }
                pthread_mutex_lock(&ws->lock);
                bool full = ws->n_conns >= ws->srv->cfg->max_connections;
                pthread_mutex_unlock(&ws->lock);
                return full ? -1 : 0;
        }
        case LWS_CALLBACK_ESTABLISHED: {
                char uri[256];
                lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
                c = calloc(1, sizeof *c);
                if (!c)
                        return -1;
                c->ws = ws;
                c->wsi = wsi;
                uuid_parse(uri + strlen(PATH_PREFIX), strlen(uri + strlen(PATH_PREFIX)), &c->id);
                pthread_mutex_init(&c->lock, NULL);
                *slot = c;
                pthread_mutex_lock(&ws->lock);
                c->next = ws->conns;
                ws->conns = c;
                ws->n_conns++;
                pthread_mutex_unlock(&ws->lock);

                /* Watch first, so that nothing between the look at PostgreSQL and the watch is lost. */
                c->watch = hub_watch(ws->srv->hub, &c->id, on_event, c);
                _cleanup_free_ char *status = NULL;
                int r = store_get_status(ws->srv->store, &c->id, &status);
                if (r == -ENOENT)
                        send_error(c, "not_found", "no submission with this id");
                else if (r < 0)
                        send_error(c, "unavailable", "the database is unreachable");
                else if (strcmp(status, "QUEUED") == 0)
                        enqueue_text(c, "{\"type\":\"status\",\"status\":\"QUEUED\"}", false);
                else if (strcmp(status, "RUNNING") != 0) {
                        /* Final: the stream's replay ends with the result if it is still kept;
                         * otherwise PostgreSQL answers after a short grace. */
                        c->pg_final = true;
                        lws_set_timer_usecs(wsi, PG_GRACE_US);
                }
                lws_callback_on_writable(wsi);
                return 0;
        }
        case LWS_CALLBACK_TIMER:
                if (c && c->pg_final) {
                        pthread_mutex_lock(&c->lock);
                        bool have = c->got_final;
                        pthread_mutex_unlock(&c->lock);
                        if (!have)
                                send_result_from_db(c);
                        lws_callback_on_writable(wsi);
                }
                return 0;
        case LWS_CALLBACK_SERVER_WRITEABLE: {
                if (!c)
                        return -1;
                if (c->sent_final) {
                        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"done", 4);
                        return -1;
                }
                pthread_mutex_lock(&c->lock);
                bool slow = c->too_slow;
                Message *m = c->head;
                if (m && !slow) {
                        c->head = m->next;
                        if (!c->head)
                                c->tail = NULL;
                        c->queued_bytes -= m->len;
                }
                bool more = c->head != NULL;
                pthread_mutex_unlock(&c->lock);
                if (slow) {
                        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"too slow", 8);
                        return -1;
                }
                if (!m)
                        return 0;
                int n = lws_write(wsi, (unsigned char *)m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
                bool final = m->final;
                free(m);
                if (n < 0)
                        return -1;
                if (final)
                        c->sent_final = true;
                if (more || final)
                        lws_callback_on_writable(wsi);
                return 0;
        }
        case LWS_CALLBACK_RECEIVE:
                if (c && (c->rx_bytes += len) > RX_MAX_BYTES) {
                        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"say less", 8);
                        return -1;
                }
                return 0;
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
                /* Woken by the hub: every connection with something queued wants to write. */
                pthread_mutex_lock(&ws->lock);
                for (Conn *k = ws->conns; k; k = k->next) {
                        pthread_mutex_lock(&k->lock);
                        bool pending = k->head || k->too_slow;
                        pthread_mutex_unlock(&k->lock);
                        if (pending)
                                lws_callback_on_writable(k->wsi);
                }
                pthread_mutex_unlock(&ws->lock);
                return 0;
        case LWS_CALLBACK_CLOSED:
                if (!c)
                        return 0;
                hub_unwatch(ws->srv->hub, c->watch);
                pthread_mutex_lock(&ws->lock);
                for (Conn **p = &ws->conns; *p; p = &(*p)->next)
                        if (*p == c) {
                                *p = c->next;
                                break;
                        }
                ws->n_conns--;
                pthread_mutex_unlock(&ws->lock);
                while (c->head) {
                        Message *m = c->head;
                        c->head = m->next;
                        free(m);
                }
                pthread_mutex_destroy(&c->lock);
                free(c);
                *slot = NULL;
                return 0;
        case LWS_CALLBACK_HTTP: {
                /* Plain HTTP on this port: /health for probes, 404 for the rest. */
                const char *path = in;
                bool health = path && strcmp(path, "/health") == 0;
                unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
                const char *body = health ? "{\"status\":\"ok\"}" : "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}";
                size_t blen = strlen(body);
                if (lws_add_http_common_headers(wsi, health ? HTTP_STATUS_OK : HTTP_STATUS_NOT_FOUND,
                            "application/json", (lws_filepos_t)blen, &p, end) ||
                    lws_finalize_write_http_header(wsi, start, &p, end))
                        return 1;
                memcpy(start, body, blen);
                if (lws_write(wsi, start, blen, LWS_WRITE_HTTP_FINAL) != (int)blen)
                        return 1;
                return lws_http_transaction_completed(wsi) ? -1 : 0;
        }
        default:
                break;
        }
        return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
        {"sentinel-events", on_ws, sizeof(Conn *), RX_MAX_BYTES, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
        size_t n = strcspn(line, "\n");
        if (level & LLL_ERR)
                log_warning("libwebsockets: %.*s", (int)n, line);
        else
                log_debug("libwebsockets: %.*s", (int)n, line);
}

static void *ws_main(void *arg)
{
        Ws *ws = arg;
        while (!atomic_load(&ws->stop))
                if (lws_service(ws->ctx, 0) < 0)
                        break;
        return NULL;
}

int ws_start(Server *srv, Ws **ret)
{
        Ws *ws = calloc(1, sizeof *ws);
        if (!ws)
                return -ENOMEM;
        ws->srv = srv;
        pthread_mutex_init(&ws->lock, NULL);
        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);

        struct lws_context_creation_info info = {};
        info.port = (int)srv->cfg->ws_port;
        info.iface = srv->cfg->listen_address;
        info.protocols = protocols;
        info.user = ws;
        info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
        info.timeout_secs = (unsigned)srv->cfg->connection_timeout_s;
        info.max_http_header_data = 4096;
        ws->ctx = lws_create_context(&info);
        if (!ws->ctx) {
                pthread_mutex_destroy(&ws->lock);
                free(ws);
                return log_error_errno(-EADDRINUSE, "cannot listen on %s:%" PRIu64 " for WebSockets",
                        srv->cfg->listen_address, srv->cfg->ws_port);
        }
        int r = pthread_create(&ws->thread, NULL, ws_main, ws);
        if (r != 0) {
                lws_context_destroy(ws->ctx);
                free(ws);
                return -r;
        }
        log_info("WebSocket on ws://%s:%" PRIu64 "/ws/submissions/{id}", srv->cfg->listen_address, srv->cfg->ws_port);
        *ret = ws;
        return 0;
}

void ws_stop(Ws *ws)
{
        if (!ws)
                return;
        atomic_store(&ws->stop, true);
        lws_cancel_service(ws->ctx);
        pthread_join(ws->thread, NULL);
        /* Closes every connection (their CLOSED callbacks unwatch and free). */
        lws_context_destroy(ws->ctx);
        pthread_mutex_destroy(&ws->lock);
        free(ws);
}
