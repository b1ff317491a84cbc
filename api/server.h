/* SPDX-License-Identifier: Apache-2.0 */
/* sentinel-api: the HTTP side (libmicrohttpd). A request arrives in server.c, is matched against
 * the route table, and handled in routes.c; ?wait=true requests are suspended (no thread waits)
 * and resumed by the event hub or by their deadline. */
#pragma once

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "hub.h"
#include "language.h"
#include "metrics.h"
#include "publisher.h"
#include "result-cache.h"
#include "store.h"
#include "time-util.h"

typedef struct Request Request;
typedef struct Server Server;

typedef void (*RouteHandler)(Request *rq);

typedef struct Route {
        const char *method;
        const char *pattern; /* exact path, or a prefix ending in "{id}" */
        RouteHandler handler;
        const char *name;    /* metrics label */
        bool body;           /* takes a JSON body */
} Route;

struct Server {
        Config *cfg;
        LanguageRegistry *langs;
        char *languages_json;
        Store *store;
        Publisher *publisher;
        Hub *hub;
        struct Auth *auth;   /* API keys (auth.c) */
        ResultCache *results; /* final submissions, for GET (result-cache.c) */
        struct WebRoot *web; /* the browser editor (static.c); NULL: no page */
        MetricsRegistry *metrics;
        Metric *m_requests;
        Metric *m_latency;
        Metric *m_waiting;
        struct MHD_Daemon *daemon;

        /* Suspended ?wait=true requests, by deadline order of arrival (all share one cap). */
        pthread_mutex_t wait_lock;
        pthread_cond_t wait_cond;
        uint64_t wait_wake_ms; /* when the wait timer wakes next (under wait_lock) */
        Request *waiters;
        bool stopping;
        pthread_t wait_thread;
};

struct Request {
        Server *srv;
        struct MHD_Connection *conn;
        const Route *route;
        char path_id[72];
        char client[64];     /* "key:<id>" for a request with an API key, else the peer's address */
        bool keyed;
        char *body;
        size_t body_len, body_cap;
        bool body_too_large;
        uint64_t start_ns;
        unsigned status;

        /* ?wait=true */
        HubWatch *watch;
        bool suspended, resumed, timed_out;
        char *result;        /* the final event's "result" object, JSON text */
        char *accepted;      /* the 202 body, for a wait that ends without a result */
        uint64_t deadline_ms;
        Request *wait_next, *wait_prev;
};

int server_start(Server *srv);
void server_stop(Server *srv);

/* Responses (each queues exactly one response on the connection). */
void respond_json(Request *rq, unsigned status, char *body_owned);
/* An error with one extra header (Retry-After, WWW-Authenticate, Allow). */
void respond_error_with(Request *rq, unsigned status, const char *code, const char *field,
        const char *extra_name, const char *extra_value, const char *message);
void respond_error(Request *rq, unsigned status, const char *code, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

void respond_text(Request *rq, unsigned status, const char *content_type, char *body_owned, size_t len);
/* A file (fd owned, closed by libmicrohttpd; HEAD gets no body). encoding: a Content-Encoding or
 * NULL; cache_control replaces "no-store"; csp, when not NULL, replaces the API's policy. */
void respond_file(Request *rq, unsigned status, const char *content_type, int fd, uint64_t size,
        const char *encoding, const char *cache_control, const char *csp);

/* ?wait=true: watches the job's events (before its row is inserted), then suspends rq until its
 * final event or rq->deadline_ms. */
int request_watch(Request *rq, const Uuid *id);
/* ?wait=true: suspends rq until its job's final event or deadline_ms. */
void request_wait(Request *rq, char *accepted_owned);

extern const Route server_routes[];
extern const size_t server_n_routes;

