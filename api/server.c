/* SPDX-License-Identifier: Apache-2.0 */
/* sentinel-api's HTTP side: libmicrohttpd glue, the route table, responses, suspended waits. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "cleanup.h"
#include "client-addr.h"
#include "cpus.h"
#include "log.h"
#include "time-util.h"

#define MAX_HEADERS 100
#define CONNECTION_MEMORY (64 * 1024) /* request line + headers + read buffer per connection */

static atomic_uint active_requests;

static void add_headers(Request *rq, struct MHD_Response *resp, const char *cache_control, const char *csp)
{
        MHD_add_response_header(resp, "Cache-Control", cache_control);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
        MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
        const char *cors = rq->srv->cfg->cors_origin;
        if (cors && *cors) {
                MHD_add_response_header(resp, "Access-Control-Allow-Origin", cors);
                MHD_add_response_header(resp, "Vary", "Origin");
        }
}

static void add_common_headers(Request *rq, struct MHD_Response *resp)
{
        add_headers(rq, resp, "no-store", "default-src 'none'; frame-ancestors 'none'");
}

static void respond(Request *rq, unsigned status, const char *content_type, char *body_owned, size_t len,
        const char *extra_name, const char *extra_value)
{
        if (rq->status != 0) { /* one response per request */
                free(body_owned);
                return;
        }
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body_owned, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body_owned);
                return;
        }
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        if (extra_name)
                MHD_add_response_header(resp, extra_name, extra_value);
        add_common_headers(rq, resp);
        rq->status = status;
        MHD_queue_response(rq->conn, status, resp);
        MHD_destroy_response(resp);
}

void respond_text(Request *rq, unsigned status, const char *content_type, char *body_owned, size_t len)
{
        respond(rq, status, content_type, body_owned, len, NULL, NULL);
}

void respond_file(Request *rq, unsigned status, const char *content_type, int fd, uint64_t size,
        const char *encoding, const char *cache_control, const char *csp)
{
        if (rq->status != 0) {
                safe_close(fd);
                return;
        }
        struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
        if (!resp) {
                safe_close(fd);
                return;
        }
        MHD_add_response_header(resp, "Content-Type", content_type);
        MHD_add_response_header(resp, "Vary", "Accept-Encoding");
        if (encoding)
                MHD_add_response_header(resp, "Content-Encoding", encoding);
        add_headers(rq, resp, cache_control, csp ? csp : "default-src 'none'; frame-ancestors 'none'");
        rq->status = status;
        MHD_queue_response(rq->conn, status, resp);
        MHD_destroy_response(resp);
}

void respond_json(Request *rq, unsigned status, char *body_owned)
{
        respond(rq, status, "application/json", body_owned, strlen(body_owned), NULL, NULL);
}

void respond_error_with(Request *rq, unsigned status, const char *code, const char *field,
        const char *extra_name, const char *extra_value, const char *message)
{
        json_t *err = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message", message, "field", field);
        char *body = err ? json_dumps(err, JSON_COMPACT) : NULL;
        json_decref(err);
        if (!body)
                body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
        if (body)
                respond(rq, status, "application/json", body, strlen(body), extra_name, extra_value);
}

void respond_error(Request *rq, unsigned status, const char *code, const char *field, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        const char *retry = status == 503 ? "Retry-After" : NULL;
        respond_error_with(rq, status, code, field, retry, retry ? "1" : NULL, msg);
}

/* ---- ?wait=true ---------------------------------------------------------------------------- */

static void waiter_unlink(Server *srv, Request *rq)
{
        if (rq->wait_prev)
                rq->wait_prev->wait_next = rq->wait_next;
        else if (srv->waiters == rq)
                srv->waiters = rq->wait_next;
        if (rq->wait_next)
                rq->wait_next->wait_prev = rq->wait_prev;
        rq->wait_next = rq->wait_prev = NULL;
}

/* Caller holds wait_lock. */
static void waiter_resume(Server *srv, Request *rq)
{
        if (rq->resumed)
                return;
        rq->resumed = true;
        waiter_unlink(srv, rq);
        if (rq->suspended)
                MHD_resume_connection(rq->conn);
}

/* The hub's callback: keeps the result of the final event and wakes the request. */
static void on_job_event(void *userdata, const char *event_json, size_t len, bool final)
{
        Request *rq = userdata;
        if (!final)
                return;
        json_error_t jerr;
        json_t *ev = json_loadb(event_json, len, 0, &jerr);
        json_t *result = ev ? json_object_get(ev, "result") : NULL;
        char *text = result ? json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(ev);
        Server *srv = rq->srv;
        pthread_mutex_lock(&srv->wait_lock);
        if (!rq->resumed && !rq->result) {
                rq->result = TAKE_PTR(text);
                if (rq->suspended)
                        waiter_resume(srv, rq);
        }
        pthread_mutex_unlock(&srv->wait_lock);
        free(text);
}

int request_watch(Request *rq, const Uuid *id)
{
        rq->watch = hub_watch(rq->srv->hub, id, on_job_event, rq);
        return rq->watch ? 0 : -ENOMEM;
}

void request_wait(Request *rq, char *accepted_owned)
{
        Server *srv = rq->srv;
        rq->accepted = accepted_owned;
        pthread_mutex_lock(&srv->wait_lock);
        if (rq->result || srv->stopping) {
                rq->resumed = true;
                pthread_mutex_unlock(&srv->wait_lock);
                return; /* on_request answers right away */
        }
        rq->suspended = true;
        rq->wait_next = srv->waiters;
        if (srv->waiters)
                srv->waiters->wait_prev = rq;
        srv->waiters = rq;
        MHD_suspend_connection(rq->conn);
        if (rq->deadline_ms < srv->wait_wake_ms)
                pthread_cond_signal(&srv->wait_cond); /* it would sleep past this deadline */
        pthread_mutex_unlock(&srv->wait_lock);
}

static void finish_wait(Request *rq)
{
        Server *srv = rq->srv;
        pthread_mutex_lock(&srv->wait_lock);
        char *result = TAKE_PTR(rq->result);
        pthread_mutex_unlock(&srv->wait_lock);
        if (result)
                respond_json(rq, 200, result);
        else
                respond_json(rq, 202, TAKE_PTR(rq->accepted));
}

/* Whether the client of a suspended request has closed its end. libmicrohttpd does not watch a
 * suspended connection, so without this a client that leaves would hold its descriptor (and a
 * connection slot) until the job ends or the wait's cap. A suspended connection's socket is not
 * touched by libmicrohttpd meanwhile, so peeking at it from here is safe. */
static bool client_gone(Request *rq)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci)
                return false;
        struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
        if (poll(&p, 1, 0) <= 0)
                return false;
        if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
                return true;
        char c;
        return recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void *wait_timer_main(void *arg)
{
        Server *srv = arg;
        uint64_t next_peek = 0;
        pthread_mutex_lock(&srv->wait_lock);
        for (;;) {
                /* A new waiter wakes us only when its deadline comes before our next wake-up; the
                 * sockets are peeked at once a second, not on each wake-up (a syscall per waiter). */
                uint64_t now = now_monotonic_ms();
                bool peek = now >= next_peek;
                if (peek)
                        next_peek = now + 1000;
                uint64_t next = next_peek;
                for (Request *rq = srv->waiters, *n; rq; rq = n) {
                        n = rq->wait_next;
                        if (srv->stopping || rq->deadline_ms <= now || (peek && client_gone(rq))) {
                                rq->timed_out = true;
                                waiter_resume(srv, rq);
                        } else
                                next = MIN(next, rq->deadline_ms);
                }
                if (srv->stopping && !srv->waiters)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t wait = next > now ? next - now : 0;
                ts.tv_sec += (time_t)(wait / 1000);
                ts.tv_nsec += (long)(wait % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                if (srv->stopping)
                        break;
                srv->wait_wake_ms = next;
                pthread_cond_timedwait(&srv->wait_cond, &srv->wait_lock, &ts);
        }
        pthread_mutex_unlock(&srv->wait_lock);
        return NULL;
}

/* ---- routing ------------------------------------------------------------------------------- */

/* Matches path against pattern; a pattern ending in "{id}" captures one non-empty segment. */
static bool path_matches(const char *pattern, const char *path, char *id, size_t idlen)
{
        const char *brace = strstr(pattern, "{id}");
        if (!brace)
                return strcmp(pattern, path) == 0;
        size_t plen = (size_t)(brace - pattern);
        if (strncmp(pattern, path, plen) != 0)
                return false;
        const char *seg = path + plen;
        size_t n = strlen(seg);
        if (n == 0 || strchr(seg, '/'))
                return false;
        snprintf(id, idlen, "%.*s", (int)MIN(n, idlen - 1), seg);
        return n < idlen;
}

static bool is_json_content_type(const char *ct)
{
        if (!ct)
                return false;
        size_t n = strlen("application/json");
        if (strncasecmp(ct, "application/json", n) != 0)
                return false;
        return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static void client_address(struct MHD_Connection *conn, char *buf, size_t len)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(buf, len, "unknown");
        if (!ci || !ci->client_addr)
                return;
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
        else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
}

/* The API key, when keys are active: the request's client becomes "key:<id>" (else its address).
 * Returns 0, or -EACCES after answering 401 (or 503 when the keys could not be read yet). */
static int authenticate(Request *rq)
{
        const char *key = NULL;
        size_t len = 0;
        bool given = api_key_from_headers(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization"),
                MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Auth-Token"), &key, &len);
        char id[API_KEY_ID_MAX + 1];
        switch (auth_check(rq->srv->auth, given ? key : NULL, len, id)) {
        case AUTH_OPEN:
                return 0;
        case AUTH_OK:
                snprintf(rq->client, sizeof rq->client, "key:%s", id);
                rq->keyed = true;
                return 0;
        case AUTH_MISSING:
                respond_error_with(rq, 401, "unauthorized", "Authorization", "WWW-Authenticate", "Bearer",
                        "an API key is required: Authorization: Bearer <key> (or X-Auth-Token: <key>)");
                return -EACCES;
        case AUTH_REJECTED:
                respond_error_with(rq, 401, "unauthorized", "Authorization", "WWW-Authenticate",
                        "Bearer error=\"invalid_token\"", "the API key is unknown or revoked");
                return -EACCES;
        case AUTH_UNKNOWN:
        default:
                respond_error(rq, 503, "unavailable", NULL, "API keys cannot be checked yet (the database is unreachable)");
                return -EACCES;
        }
}

/* First call for a request: route it and check what can be checked before the body is read. */
static void begin_request(Request *rq, const char *url, const char *method)
{
        Server *srv = rq->srv;
        if (MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, NULL, NULL) > MAX_HEADERS) {
                respond_error(rq, 431, "too_many_headers", NULL, "at most %d request headers", MAX_HEADERS);
                return;
        }
        char allow[128] = "";
        bool path_found = false;
        for (size_t i = 0; i < server_n_routes; i++) {
                const Route *r = &server_routes[i];
                if (!path_matches(r->pattern, url, rq->path_id, sizeof rq->path_id))
                        continue;
                path_found = true;
                if (strcmp(r->method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
                        rq->route = r;
                        break;
                }
                if (!strstr(allow, r->method)) {
                        size_t off = strlen(allow);
                        snprintf(allow + off, sizeof allow - off, "%s%s", off ? ", " : "", r->method);
                }
        }
        if (!path_found) {
                respond_error(rq, 404, "not_found", NULL, "no such route");
                return;
        }
        if (!rq->route) {
                if (strcmp(method, "OPTIONS") == 0) {
                        /* CORS preflight (or a plain OPTIONS): what this path allows. */
                        char *empty = strdup("");
                        if (!empty)
                                return;
                        struct MHD_Response *resp = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_MUST_FREE);
                        if (!resp) {
                                free(empty);
                                return;
                        }
                        MHD_add_response_header(resp, "Allow", allow);
                        if (*srv->cfg->cors_origin) {
                                MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
                                MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                        "Content-Type, Authorization, Idempotency-Key, X-Auth-Token");
                                MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
                        }
                        add_common_headers(rq, resp);
                        rq->status = 204;
                        MHD_queue_response(rq->conn, 204, resp);
                        MHD_destroy_response(resp);
                        return;
                }
                char msg[200];
                snprintf(msg, sizeof msg, "%.16s is not allowed here; allowed: %s", method, allow);
                respond_error_with(rq, 405, "method_not_allowed", NULL, "Allow", allow, msg);
                return;
        }
        if (strncmp(rq->route->pattern, "/api/", 5) == 0 && authenticate(rq) < 0)
                return;
        if (rq->route->body) {
                const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
                if (!is_json_content_type(ct)) {
                        respond_error(rq, 415, "unsupported_media_type", NULL,
                                "the body must be JSON (Content-Type: application/json)");
                        return;
                }
                const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Length");
                if (cl) {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(cl, &end, 10);
                        if (errno || *end || v > srv->cfg->max_body_kb * 1024) {
                                respond_error(rq, 413, "body_too_large", NULL, "the body is larger than %" PRIu64 " KiB",
                                        srv->cfg->max_body_kb);
                                return;
                        }
                }
        }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        Server *srv = cls;
        Request *rq = *con_cls;
        if (!rq) {
                rq = calloc(1, sizeof *rq);
                if (!rq)
                        return MHD_NO;
                rq->srv = srv;
                rq->conn = conn;
                rq->start_ns = now_monotonic_ns();
                char peer[64];
                client_address(conn, peer, sizeof peer);
                client_identity(peer, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For"),
                        srv->cfg->trusted_proxies, rq->client, sizeof rq->client);
                *con_cls = rq;
                atomic_fetch_add(&active_requests, 1);
                begin_request(rq, url, method);
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (rq->status != 0)
                        return MHD_YES; /* answered already: the rest is dropped */
                size_t cap = srv->cfg->max_body_kb * 1024;
                if (rq->body_len + n > cap) {
                        respond_error(rq, 413, "body_too_large", NULL, "the body is larger than %" PRIu64 " KiB",
                                srv->cfg->max_body_kb);
                        return MHD_YES;
                }
                if (rq->body_len + n + 1 > rq->body_cap) {
                        size_t ncap = MAX(rq->body_cap * 2, rq->body_len + n + 1);
                        ncap = MIN(ncap, cap + 1);
                        char *b = realloc(rq->body, ncap);
                        if (!b)
                                return MHD_NO;
                        rq->body = b;
                        rq->body_cap = ncap;
                }
                memcpy(rq->body + rq->body_len, upload_data, n);
                rq->body_len += n;
                rq->body[rq->body_len] = '\0';
                return MHD_YES;
        }
        if (rq->status != 0)
                return MHD_YES;
        if (rq->resumed) {
                finish_wait(rq);
                return MHD_YES;
        }
        if (rq->suspended)
                return MHD_YES;
        if (!rq->body) {
                rq->body = strdup("");
                if (!rq->body)
                        return MHD_NO;
        }
        rq->route->handler(rq);
        if (rq->resumed && !rq->suspended)
                finish_wait(rq); /* the result came before the request could wait */
        else if (rq->status == 0 && !rq->suspended)
                respond_error(rq, 500, "internal", NULL, "no response");
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
        Server *srv = cls;
        Request *rq = *con_cls;
        if (!rq)
                return;
        *con_cls = NULL;
        hub_unwatch(srv->hub, rq->watch);
        pthread_mutex_lock(&srv->wait_lock);
        waiter_unlink(srv, rq);
        pthread_mutex_unlock(&srv->wait_lock);

        double seconds = (double)(now_monotonic_ns() - rq->start_ns) / 1e9;
        char status[12];
        snprintf(status, sizeof status, "%u", rq->status ? rq->status : 499);
        const char *route = rq->route ? rq->route->name : "unmatched";
        const char *labels[] = {route, status};
        metrics_counter_add(srv->m_requests, 1, labels);
        metrics_histogram_observe(srv->m_latency, seconds, labels);

        free(rq->body);
        free(rq->result);
        free(rq->accepted);
        free(rq);
        atomic_fetch_sub(&active_requests, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        log_debug("libmicrohttpd: %s", msg);
}

int server_start(Server *srv)
{
        pthread_mutex_init(&srv->wait_lock, NULL);
        pthread_cond_init(&srv->wait_cond, NULL);
        int r = pthread_create(&srv->wait_thread, NULL, wait_timer_main, srv);
        if (r != 0)
                return -r;

        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)srv->cfg->api_port)};
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv->cfg->api_port)};
        const struct sockaddr *sa;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        if (inet_pton(AF_INET, srv->cfg->listen_address, &a4.sin_addr) == 1)
                sa = (const struct sockaddr *)&a4;
        else if (inet_pton(AF_INET6, srv->cfg->listen_address, &a6.sin6_addr) == 1) {
                sa = (const struct sockaddr *)&a6;
                flags |= MHD_USE_IPv6;
        } else
                return log_error_errno(-EINVAL, "SENTINEL_LISTEN_ADDRESS=%s is not an IP address", srv->cfg->listen_address);

        unsigned threads = srv->cfg->api_threads ? (unsigned)srv->cfg->api_threads : MAX(4u, 2 * cpus_available());
        srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                MHD_OPTION_SOCK_ADDR, sa,
                MHD_OPTION_THREAD_POOL_SIZE, threads,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg->max_connections,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg->connection_timeout_s,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
                MHD_OPTION_END);
        if (!srv->daemon)
                return log_error_errno(-EADDRINUSE, "cannot listen on %s:%" PRIu64, srv->cfg->listen_address,
                        srv->cfg->api_port);
        log_info("API listening on http://%s:%" PRIu64 " (%u threads)", srv->cfg->listen_address, srv->cfg->api_port,
                threads);
        return 0;
}

void server_stop(Server *srv)
{
        if (!srv->daemon)
                return;
        /* Stop accepting, answer the waiting requests (202: the job goes on), let requests in
         * flight finish within the grace period, then stop. */
        MHD_quiesce_daemon(srv->daemon);
        pthread_mutex_lock(&srv->wait_lock);
        srv->stopping = true;
        pthread_cond_broadcast(&srv->wait_cond);
        pthread_mutex_unlock(&srv->wait_lock);
        pthread_join(srv->wait_thread, NULL);
        uint64_t deadline = now_monotonic_ms() + srv->cfg->shutdown_grace_ms;
        while (atomic_load(&active_requests) > 0 && now_monotonic_ms() < deadline) {
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
}
