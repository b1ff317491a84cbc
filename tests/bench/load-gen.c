/* SPDX-License-Identifier: Apache-2.0 */
/* load-gen: a load generator for the job server: HTTP/1.1 keep-alive and WebSocket clients on one
 * epoll loop, a bare fork+exec loop for the baseline, and a queue purge for the idle-client run.
 *
 *   load-gen submit URL [-n N] [-c C] [--rate R] [--no-wait] [--source TEXT] [--expect-status S]
 *                       [--expect-substr S] [--ids-out FILE] [--timeout-ms MS]
 *       N submissions (default 10000) of a Python program (default: print("hello, world")), each
 *       POST ?wait=true answered with its final result (200 and status S, default ACCEPTED). Closed
 *       loop on C keep-alive connections (default 64), or open loop at R requests/s with at most C
 *       connections (latency then counts from the scheduled time, so a stall is not hidden).
 *       --no-wait: plain POST, 202 QUEUED expected.
 *   load-gen get URL --ids FILE [-n N] [-c C] [--final]
 *       N GET /api/v1/submissions/{id} over the ids; --final: each must be in a final state.
 *   load-gen hold URL WS_URL --ids FILE [--ws N] [--waits M] [--source TEXT]
 *       Opens N WebSockets on the ids (one each, round robin) and M POST ?wait=true, prints
 *       "READY ..." once every WebSocket got its QUEUED status and every wait is sent, then holds
 *       them until stdin closes or SIGTERM. Any WebSocket closed or wait answered meanwhile is an error.
 *   load-gen bare [-j J] [-n N | -d SEC] -- ARGV...
 *       J parallel loops of fork+exec+wait of ARGV (stdout to /dev/null), N runs or SEC seconds.
 *   load-gen purge AMQP_URL QUEUE --expect N [--timeout-s S]
 *       Purges QUEUE until N messages in all were removed (the idle-client run's jobs never run).
 *
 * Every mode prints one JSON object on stdout (a human summary on stderr) and exits 1 if any
 * request failed, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#define DEFAULT_SOURCE "print(\"hello, world\")\n"
#define MAX_ERR_KINDS  64
#define READ_CHUNK     65536
#define WS_HANDSHAKES  64 /* WebSocket handshakes in flight at once */
#define WS_KEY         "dGhlIHNhbXBsZSBub25jZQ=="

extern char **environ;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p) {
                fprintf(stderr, "load-gen: out of memory\n");
                exit(1);
        }
        return p;
}

static void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p) {
                fprintf(stderr, "load-gen: out of memory\n");
                exit(1);
        }
        return p;
}

static char *xstrdup(const char *s)
{
        size_t n = strlen(s) + 1;
        return memcpy(xmalloc(n), s, n);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double p)
{
        if (n == 0)
                return 0;
        size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
        if (k < 1)
                k = 1;
        if (k > n)
                k = n;
        return v[k - 1];
}

/* ---- errors by kind ---- */

typedef struct ErrKind {
        char name[48];
        long n;
} ErrKind;

typedef struct Errors {
        ErrKind kinds[MAX_ERR_KINDS];
        unsigned n_kinds;
        long total;
} Errors;

static void err_add(Errors *e, const char *name)
{
        e->total++;
        for (unsigned i = 0; i < e->n_kinds; i++)
                if (strcmp(e->kinds[i].name, name) == 0) {
                        e->kinds[i].n++;
                        return;
                }
        unsigned i = e->n_kinds < MAX_ERR_KINDS ? e->n_kinds++ : MAX_ERR_KINDS - 1;
        snprintf(e->kinds[i].name, sizeof e->kinds[i].name, "%s", name);
        e->kinds[i].n++;
}

__attribute__((format(printf, 2, 3))) static void err_addf(Errors *e, const char *fmt, ...)
{
        char name[48];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(name, sizeof name, fmt, ap);
        va_end(ap);
        err_add(e, name);
}

static void err_print_json(const Errors *e, FILE *f)
{
        fputc('{', f);
        for (unsigned i = 0; i < e->n_kinds; i++)
                fprintf(f, "%s\"%s\": %ld", i ? ", " : "", e->kinds[i].name, e->kinds[i].n);
        fputc('}', f);
}

/* ---- small JSON and HTTP helpers ---- */

/* The string value of the first "key": "value" in a JSON text, unescaped only as far as a plain
 * id or status needs (no escapes expected). 0, or -1 when absent. */
static int json_str_field(const char *body, size_t len, const char *key, char *out, size_t cap)
{
        char pat[64];
        int pn = snprintf(pat, sizeof pat, "\"%s\"", key);
        const char *p = body, *end = body + len;
        while ((p = memmem(p, (size_t)(end - p), pat, (size_t)pn))) {
                const char *q = p + pn;
                while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                        q++;
                if (q < end && *q == ':') {
                        q++;
                        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                                q++;
                        if (q >= end || *q != '"')
                                return -1;
                        q++;
                        size_t i = 0;
                        while (q < end && *q != '"' && i + 1 < cap)
                                out[i++] = *q++;
                        out[i] = '\0';
                        return q < end && *q == '"' ? 0 : -1;
                }
                p = q;
        }
        return -1;
}

/* The number value of the first "key": number in a JSON text: 0, or -1 when absent or null. */
static int json_num_field(const char *body, size_t len, const char *key, double *ret)
{
        char pat[64];
        int pn = snprintf(pat, sizeof pat, "\"%s\"", key);
        const char *p = memmem(body, len, pat, (size_t)pn), *end = body + len;
        if (!p)
                return -1;
        p += pn;
        while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n'))
                p++;
        if (p >= end || !((*p >= '0' && *p <= '9') || *p == '-'))
                return -1;
        char buf[32];
        size_t n = 0;
        while (p < end && n + 1 < sizeof buf && strchr("0123456789.eE+-", *p))
                buf[n++] = *p++;
        buf[n] = '\0';
        *ret = strtod(buf, NULL);
        return 0;
}

static char *json_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n * 6 + 1), *o = out;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char)*p;
                } else if (*p == '\n') {
                        *o++ = '\\';
                        *o++ = 'n';
                } else if (*p == '\t') {
                        *o++ = '\\';
                        *o++ = 't';
                } else if (*p < 0x20)
                        o += sprintf(o, "\\u%04x", *p);
                else
                        *o++ = (char)*p;
        }
        *o = '\0';
        return out;
}

/* "http://127.0.0.1:8080" or "ws://host:port" (an IPv4 literal; "localhost" is 127.0.0.1). */
static int parse_url(const char *url, struct sockaddr_in *ret, char *host_hdr, size_t cap)
{
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        char host[40];
        const char *colon = strchr(p, ':');
        if (!colon || (size_t)(colon - p) >= sizeof host)
                return -1;
        memcpy(host, p, (size_t)(colon - p));
        host[colon - p] = '\0';
        char *endp;
        long port = strtol(colon + 1, &endp, 10);
        if (port <= 0 || port > 65535 || (*endp && *endp != '/'))
                return -1;
        memset(ret, 0, sizeof *ret);
        ret->sin_family = AF_INET;
        ret->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
                snprintf(host, sizeof host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &ret->sin_addr) != 1)
                return -1;
        snprintf(host_hdr, cap, "%s:%ld", host, port);
        return 0;
}

static char **read_lines(const char *path, long *ret_n)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "load-gen: %s: %s\n", path, strerror(errno));
                exit(2);
        }
        char **v = NULL, *line = NULL;
        size_t cap = 0;
        long n = 0, vcap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) >= 0) {
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                if (len == 0)
                        continue;
                if (n == vcap) {
                        vcap = vcap ? vcap * 2 : 1024;
                        v = xrealloc(v, (size_t)vcap * sizeof *v);
                }
                v[n++] = xstrdup(line);
        }
        free(line);
        fclose(f);
        *ret_n = n;
        return v;
}

/* An HTTP/1.1 response in buf: 1 when complete (status, body, bytes used, Connection: close),
 * 0 when more is needed, -1 when malformed. Content-Length and chunked bodies. */
typedef struct Response {
        int status;
        const char *body; /* into buf (Content-Length), or a decoded copy in `decoded` (chunked) */
        size_t body_len;
        size_t used;
        bool close;
        char *decoded;
} Response;

static int http_parse(const char *buf, size_t len, Response *r)
{
        const char *hend = memmem(buf, len, "\r\n\r\n", 4);
        if (!hend)
                return len > 65536 ? -1 : 0;
        size_t hlen = (size_t)(hend - buf) + 4;
        if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
                return -1;
        memset(r, 0, sizeof *r);
        r->status = atoi(buf + 9);
        long clen = -1;
        bool chunked = false;
        for (const char *l = memchr(buf, '\n', hlen); l && l < hend;
                l = memchr(l, '\n', (size_t)(hend - l))) {
                l++;
                if (strncasecmp(l, "Content-Length:", 15) == 0)
                        clen = strtol(l + 15, NULL, 10);
                else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0) {
                        const char *v = l + 18, *e = memchr(l, '\r', (size_t)(hend + 2 - l));
                        chunked = e && memmem(v, (size_t)(e - v), "chunked", 7);
                } else if (strncasecmp(l, "Connection:", 11) == 0) {
                        const char *v = l + 11, *e = memchr(l, '\r', (size_t)(hend + 2 - l));
                        r->close = e && memmem(v, (size_t)(e - v), "close", 5);
                }
        }
        if (!chunked) {
                if (clen < 0)
                        clen = 0; /* our server always sends a length; no close-delimited bodies */
                if (len - hlen < (size_t)clen)
                        return 0;
                r->body = buf + hlen;
                r->body_len = (size_t)clen;
                r->used = hlen + (size_t)clen;
                return 1;
        }
        /* Chunked: walk the chunks; decode once the terminal chunk is in. */
        size_t pos = hlen, total = 0;
        for (;;) {
                const char *le = memmem(buf + pos, len - pos, "\r\n", 2);
                if (!le)
                        return 0;
                unsigned long sz = strtoul(buf + pos, NULL, 16);
                size_t data = (size_t)(le - buf) + 2;
                if (sz == 0) {
                        if (len < data + 2)
                                return 0;
                        /* no trailers expected */
                        r->used = data + 2;
                        break;
                }
                if (len < data + sz + 2)
                        return 0;
                total += sz;
                pos = data + sz + 2;
        }
        r->decoded = xmalloc(total + 1);
        pos = hlen;
        size_t o = 0;
        for (;;) {
                const char *le = memmem(buf + pos, len - pos, "\r\n", 2);
                unsigned long sz = strtoul(buf + pos, NULL, 16);
                size_t data = (size_t)(le - buf) + 2;
                if (sz == 0)
                        break;
                memcpy(r->decoded + o, buf + data, sz);
                o += sz;
                pos = data + sz + 2;
        }
        r->decoded[o] = '\0';
        r->body = r->decoded;
        r->body_len = o;
        return 1;
}

/* ---- the connection engine ---- */

typedef enum ConnKind {
        KIND_HTTP,
        KIND_WS,
} ConnKind;

typedef enum ConnState {
        ST_CONNECTING,
        ST_BUSY,    /* a request is out, its response not complete */
        ST_IDLE,    /* keep-alive, no request */
        ST_WS_UP,   /* WebSocket handshake sent, 101 not yet read */
        ST_WS_OPEN, /* WebSocket open */
        ST_DEAD,
} ConnState;

typedef struct Conn {
        int fd;
        ConnKind kind;
        ConnState state;
        bool connected;
        bool reused; /* has answered a request before: a close before any byte may be a keep-alive race */
        char *out;
        size_t out_len, out_off, out_cap;
        char *in;
        size_t in_len, in_cap;
        uint64_t t0; /* the request's start (open loop: its scheduled time) */
        long req;    /* the request's index, -1 when none */
        bool ws_queued_seen;
        long ws_messages;
        struct Conn *next_idle;
} Conn;

typedef enum ReqKind {
        REQ_SUBMIT_WAIT,
        REQ_SUBMIT,
        REQ_GET,
} ReqKind;

typedef struct Run {
        int ep;
        struct sockaddr_in addr, ws_addr;
        char host[64], ws_host[64];
        ReqKind kind;
        char *body; /* the POST body */
        char **ids;
        long n_ids;
        const char *expect_status;
        const char *expect_substr;
        bool final;
        FILE *ids_out;
        uint64_t timeout_ns;

        long n, issued, done;
        unsigned conc, open;
        double rate;
        uint64_t t_start, t_end;
        double *lat;                  /* ms, of successful requests */
        double sum_wall_s, sum_cpu_s; /* the results' wall_time and cpu_time */
        long n_timed;
        long n_lat;
        long ok;
        long conns_opened;
        Errors errors;
        Conn *idle;
        Conn **all;
        size_t n_all, cap_all;

        /* hold */
        bool holding;
        long ws_target, ws_started, ws_open, ws_queued, ws_closed_early;
        long waits_answered;
} Run;

static void conn_track(Run *run, Conn *c)
{
        if (run->n_all == run->cap_all) {
                run->cap_all = run->cap_all ? run->cap_all * 2 : 256;
                run->all = xrealloc(run->all, run->cap_all * sizeof *run->all);
        }
        run->all[run->n_all++] = c;
}

static Conn *conn_new(Run *run, ConnKind kind, const struct sockaddr_in *addr, Errors *errors)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                err_addf(errors, "socket_errno_%d", errno);
                return NULL;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Conn *c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                err_add(errors, "out_of_memory");
                return NULL;
        }
        c->fd = fd;
        c->kind = kind;
        c->state = ST_CONNECTING;
        c->req = -1;
        int r = connect(fd, (const struct sockaddr *)addr, sizeof *addr);
        if (r < 0 && errno != EINPROGRESS) {
                err_addf(errors, "connect_errno_%d", errno);
                close(fd);
                free(c);
                return NULL;
        }
        c->connected = r == 0;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(run->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                err_addf(errors, "epoll_errno_%d", errno);
                close(fd);
                free(c);
                return NULL;
        }
        run->conns_opened++;
        conn_track(run, c);
        return c;
}

static void conn_kill(Conn *c)
{
        if (c->state == ST_DEAD)
                return;
        close(c->fd);
        c->fd = -1;
        c->state = ST_DEAD;
}

static void out_set(Conn *c, const char *data, size_t len)
{
        if (len > c->out_cap) {
                c->out_cap = len;
                c->out = xrealloc(c->out, len);
        }
        memcpy(c->out, data, len);
        c->out_len = len;
        c->out_off = 0;
}

/* Writes what is pending: 0, or -1 when the connection is gone. */
static int conn_flush(Conn *c)
{
        if (!c->connected)
                return 0;
        while (c->out_off < c->out_len) {
                ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                c->out_off += (size_t)w;
        }
        return 0;
}

/* Reads what is there: 1 on EOF or error, 0 otherwise. */
static int conn_fill(Conn *c)
{
        for (;;) {
                if (c->in_cap - c->in_len < READ_CHUNK) {
                        c->in_cap = c->in_cap ? c->in_cap * 2 : 2 * READ_CHUNK;
                        c->in = xrealloc(c->in, c->in_cap);
                }
                ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
                if (n > 0) {
                        c->in_len += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                return 1;
        }
}

static uint64_t due_ns(const Run *run, long i)
{
        return run->rate > 0 ? run->t_start + (uint64_t)((double)i * 1e9 / run->rate) : run->t_start;
}

static void build_request(Run *run, Conn *c, long i)
{
        char head[512];
        int n;
        if (run->kind == REQ_GET) {
                n = snprintf(head, sizeof head, "GET /api/v1/submissions/%s HTTP/1.1\r\nHost: %s\r\n\r\n",
                        run->ids[i % run->n_ids], run->host);
                out_set(c, head, (size_t)n);
                return;
        }
        size_t blen = strlen(run->body);
        n = snprintf(head, sizeof head,
                "POST /api/v1/submissions%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %zu\r\n\r\n",
                run->kind == REQ_SUBMIT_WAIT ? "?wait=true" : "", run->host, blen);
        char *buf = xmalloc((size_t)n + blen);
        memcpy(buf, head, (size_t)n);
        memcpy(buf + n, run->body, blen);
        out_set(c, buf, (size_t)n + blen);
        free(buf);
}

static void request_finish(Run *run, Conn *c, const char *error)
{
        if (c->req < 0)
                return;
        uint64_t now = now_ns();
        if (error)
                err_add(&run->errors, error);
        else {
                run->ok++;
                run->lat[run->n_lat++] = (double)(now - c->t0) / 1e6;
        }
        c->req = -1;
        run->done++;
        run->t_end = now;
}

/* Starts the next due request on an idle or new connection, while there is one. */
static void dispatch(Run *run)
{
        if (run->holding)
                return;
        uint64_t now = now_ns();
        while (run->issued < run->n && due_ns(run, run->issued) <= now) {
                Conn *c = run->idle;
                if (c)
                        run->idle = c->next_idle;
                else if (run->open < run->conc) {
                        c = conn_new(run, KIND_HTTP, &run->addr, &run->errors);
                        if (!c) {
                                /* the request fails; count it as done */
                                run->issued++;
                                run->done++;
                                continue;
                        }
                        run->open++;
                } else
                        break;
                long i = run->issued++;
                c->req = i;
                c->t0 = run->rate > 0 ? due_ns(run, i) : now;
                c->state = c->connected ? ST_BUSY : ST_CONNECTING;
                build_request(run, c, i);
                if (conn_flush(c) < 0) {
                        request_finish(run, c, c->reused ? "send_failed_reused" : "send_failed");
                        conn_kill(c);
                        run->open--;
                }
        }
}

static void handle_response(Run *run, Conn *c, const Response *r)
{
        char status[32] = "", id[64] = "";
        json_str_field(r->body, r->body_len, "status", status, sizeof status);
        json_str_field(r->body, r->body_len, "id", id, sizeof id);
        double wall, cpu;
        if (r->status == 200 && json_num_field(r->body, r->body_len, "wall_time", &wall) == 0 &&
                json_num_field(r->body, r->body_len, "cpu_time", &cpu) == 0) {
                run->sum_wall_s += wall;
                run->sum_cpu_s += cpu;
                run->n_timed++;
        }
        if (run->holding) {
                /* A held wait must not be answered while we hold it. */
                run->waits_answered++;
                err_addf(&run->errors, "wait_answered_http_%d", r->status);
                c->req = -1;
                return;
        }
        int want = run->kind == REQ_SUBMIT ? 202 : 200;
        if (r->status != want) {
                if (run->kind == REQ_SUBMIT_WAIT && r->status == 202)
                        request_finish(run, c, "not_final_within_wait"); /* SENTINEL_WAIT_MAX_MS passed */
                else {
                        char e[48];
                        snprintf(e, sizeof e, "http_%d", r->status);
                        request_finish(run, c, e);
                }
                return;
        }
        if (run->kind == REQ_GET && run->final &&
                (strcmp(status, "QUEUED") == 0 || strcmp(status, "RUNNING") == 0 || !*status)) {
                request_finish(run, c, "not_final");
                return;
        }
        if (run->expect_status && strcmp(status, run->expect_status) != 0) {
                char e[48];
                snprintf(e, sizeof e, "status_%s", *status ? status : "missing");
                request_finish(run, c, e);
                return;
        }
        if (run->expect_substr &&
                !memmem(r->body, r->body_len, run->expect_substr, strlen(run->expect_substr))) {
                request_finish(run, c, "unexpected_body");
                return;
        }
        if (run->ids_out && *id)
                fprintf(run->ids_out, "%s\n", id);
        request_finish(run, c, NULL);
}

static void http_on_event(Run *run, Conn *c, uint32_t events)
{
        if (!c->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) {
                        char e[48];
                        snprintf(e, sizeof e, "connect_errno_%d", err);
                        request_finish(run, c, e);
                        conn_kill(c);
                        run->open--;
                        return;
                }
                c->connected = true;
                if (c->state == ST_CONNECTING)
                        c->state = c->req >= 0 ? ST_BUSY : ST_IDLE;
        }
        if (conn_flush(c) < 0) {
                request_finish(run, c, c->reused ? "send_failed_reused" : "send_failed");
                conn_kill(c);
                run->open--;
                return;
        }
        bool eof = conn_fill(c) != 0;
        while (c->in_len > 0) {
                Response r;
                int p = http_parse(c->in, c->in_len, &r);
                if (p == 0)
                        break;
                if (p < 0) {
                        request_finish(run, c, "malformed_response");
                        conn_kill(c);
                        run->open--;
                        return;
                }
                if (c->req >= 0 || run->holding)
                        handle_response(run, c, &r);
                else
                        err_add(&run->errors, "unsolicited_response");
                free(r.decoded);
                memmove(c->in, c->in + r.used, c->in_len - r.used);
                c->in_len -= r.used;
                c->reused = true;
                if (r.close) {
                        eof = true;
                        break;
                }
                c->state = ST_IDLE;
                c->next_idle = run->idle;
                run->idle = c;
        }
        if (eof) {
                if (c->req >= 0) {
                        if (run->holding)
                                err_add(&run->errors, "wait_connection_closed");
                        request_finish(run, c,
                                c->in_len ? "closed_mid_response"
                                          : (c->reused ? "closed_before_response_reused"
                                                       : "closed_before_response"));
                }
                /* take it off the idle list */
                for (Conn **p = &run->idle; *p; p = &(*p)->next_idle)
                        if (*p == c) {
                                *p = c->next_idle;
                                break;
                        }
                conn_kill(c);
                run->open--;
        }
}

/* ---- WebSocket clients (hold) ---- */

static void ws_start_one(Run *run)
{
        long i = run->ws_started++;
        Conn *c = conn_new(run, KIND_WS, &run->ws_addr, &run->errors);
        if (!c) {
                run->ws_closed_early++;
                return;
        }
        char req[512];
        int n = snprintf(req, sizeof req,
                "GET /ws/submissions/%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: "
                "Upgrade\r\n"
                "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                run->ids[i % run->n_ids], run->ws_host);
        out_set(c, req, (size_t)n);
        c->state = ST_WS_UP;
        c->t0 = now_ns();
        if (conn_flush(c) < 0) {
                err_add(&run->errors, "ws_send_failed");
                run->ws_closed_early++;
                conn_kill(c);
        }
}

static long ws_in_handshake(const Run *run)
{
        return run->ws_started - run->ws_queued - run->ws_closed_early;
}

static void ws_start_more(Run *run)
{
        while (run->ws_started < run->ws_target && ws_in_handshake(run) < WS_HANDSHAKES)
                ws_start_one(run);
}

/* Queues a client frame (masked with a zero key, which is allowed and leaves the payload as is). */
static void ws_send_frame(Conn *c, unsigned opcode, const char *payload, size_t len)
{
        char f[8 + 125];
        if (len > 125)
                len = 125;
        f[0] = (char)(0x80 | opcode);
        f[1] = (char)(0x80 | len);
        memset(f + 2, 0, 4);
        memcpy(f + 6, payload, len);
        out_set(c, f, 6 + len);
        conn_flush(c);
}

static void ws_on_event(Run *run, Conn *c, uint32_t events)
{
        if (!c->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) {
                        err_addf(&run->errors, "ws_connect_errno_%d", err);
                        run->ws_closed_early++;
                        conn_kill(c);
                        return;
                }
                c->connected = true;
        }
        if (conn_flush(c) < 0) {
                err_add(&run->errors, "ws_send_failed");
                run->ws_closed_early++;
                conn_kill(c);
                return;
        }
        bool eof = conn_fill(c) != 0;
        if (c->state == ST_WS_UP) {
                const char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
                if (hend) {
                        int status = c->in_len > 12 ? atoi(c->in + 9) : 0;
                        if (status != 101) {
                                err_addf(&run->errors, "ws_refused_http_%d", status);
                                run->ws_closed_early++;
                                conn_kill(c);
                                return;
                        }
                        size_t used = (size_t)(hend - c->in) + 4;
                        memmove(c->in, c->in + used, c->in_len - used);
                        c->in_len -= used;
                        c->state = ST_WS_OPEN;
                        run->ws_open++;
                }
        }
        while (c->state == ST_WS_OPEN && c->in_len >= 2) {
                const unsigned char *b = (const unsigned char *)c->in;
                unsigned opcode = b[0] & 0x0f;
                uint64_t len = b[1] & 0x7f;
                size_t hl = 2;
                if (len == 126) {
                        if (c->in_len < 4)
                                break;
                        len = (uint64_t)b[2] << 8 | b[3];
                        hl = 4;
                } else if (len == 127) {
                        if (c->in_len < 10)
                                break;
                        len = 0;
                        for (int k = 0; k < 8; k++)
                                len = len << 8 | b[2 + k];
                        hl = 10;
                }
                if (b[1] & 0x80)
                        hl += 4; /* servers do not mask; skip a key if one came */
                if (c->in_len < hl + len)
                        break;
                const char *payload = c->in + hl;
                if (opcode == 0x1 || opcode == 0x0) {
                        c->ws_messages++;
                        if (!c->ws_queued_seen && memmem(payload, (size_t)len, "\"QUEUED\"", 8)) {
                                c->ws_queued_seen = true;
                                run->ws_queued++;
                        } else if (memmem(payload, (size_t)len, "\"error\"", 7))
                                err_add(&run->errors, "ws_error_message");
                } else if (opcode == 0x8) {
                        long code =
                                len >= 2 ? ((unsigned char)payload[0] << 8 | (unsigned char)payload[1]) : 0;
                        err_addf(&run->errors, "ws_closed_by_server_%ld", code);
                        if (c->ws_queued_seen)
                                run->ws_queued--;
                        run->ws_closed_early++;
                        run->ws_open--;
                        conn_kill(c);
                        return;
                } else if (opcode == 0x9)
                        ws_send_frame(c, 0xA, payload, (size_t)len);
                size_t used = hl + (size_t)len;
                memmove(c->in, c->in + used, c->in_len - used);
                c->in_len -= used;
        }
        if (eof) {
                err_add(&run->errors, c->state == ST_WS_OPEN ? "ws_dropped" : "ws_dropped_in_handshake");
                if (c->state == ST_WS_OPEN) {
                        run->ws_open--;
                        if (c->ws_queued_seen)
                                run->ws_queued--;
                }
                run->ws_closed_early++;
                conn_kill(c);
        }
}

/* ---- reports ---- */

static void print_latency(const Run *run, FILE *f)
{
        qsort(run->lat, (size_t)run->n_lat, sizeof *run->lat, cmp_double);
        double sum = 0;
        for (long i = 0; i < run->n_lat; i++)
                sum += run->lat[i];
        size_t n = (size_t)run->n_lat;
        fprintf(f,
                "\"latency_ms\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"max\": %.2f, \"mean\": "
                "%.2f, "
                "\"min\": %.2f}",
                pct(run->lat, n, 50), pct(run->lat, n, 90), pct(run->lat, n, 99), n ? run->lat[n - 1] : 0,
                n ? sum / (double)n : 0, n ? run->lat[0] : 0);
}

static int run_loop(Run *run, int sigfd)
{
        struct epoll_event evs[256];
        uint64_t last_check = now_ns();
        for (;;) {
                if (!run->holding && run->done >= run->n)
                        return 0;
                int timeout = 200;
                if (!run->holding && run->rate > 0 && run->issued < run->n) {
                        uint64_t due = due_ns(run, run->issued), now = now_ns();
                        int ms = due > now ? (int)((due - now) / 1000000) : 0;
                        if (ms < timeout)
                                timeout = ms;
                }
                int k = epoll_wait(run->ep, evs, 256, timeout);
                if (k < 0 && errno != EINTR)
                        return -errno;
                for (int i = 0; i < k; i++) {
                        if (evs[i].data.ptr == NULL) {
                                struct signalfd_siginfo si;
                                if (read(sigfd, &si, sizeof si) > 0)
                                        return 1;
                                continue;
                        }
                        if (evs[i].data.ptr == (void *)run) { /* stdin: EOF ends a hold */
                                char b[256];
                                ssize_t r = read(STDIN_FILENO, b, sizeof b);
                                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                                        return 1;
                                continue;
                        }
                        Conn *c = evs[i].data.ptr;
                        if (c->state == ST_DEAD)
                                continue;
                        if (c->kind == KIND_WS)
                                ws_on_event(run, c, evs[i].events);
                        else
                                http_on_event(run, c, evs[i].events);
                }
                if (run->holding)
                        ws_start_more(run);
                else
                        dispatch(run);
                uint64_t now = now_ns();
                if (!run->holding && now - last_check > 500000000ULL) {
                        last_check = now;
                        for (size_t j = 0; j < run->n_all; j++) {
                                Conn *c = run->all[j];
                                if (c->state != ST_DEAD && c->req >= 0 && now - c->t0 > run->timeout_ns) {
                                        request_finish(run, c, "timeout");
                                        conn_kill(c);
                                        run->open--;
                                }
                        }
                        dispatch(run);
                }
        }
}

static void raise_nofile(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void run_free(Run *run)
{
        for (size_t j = 0; j < run->n_all; j++) {
                conn_kill(run->all[j]);
                free(run->all[j]->in);
                free(run->all[j]->out);
                free(run->all[j]);
        }
        free(run->all);
        free(run->lat);
        free(run->body);
        for (long i = 0; i < run->n_ids; i++)
                free(run->ids[i]);
        free(run->ids);
        if (run->ep >= 0)
                close(run->ep);
}

static _Noreturn void usage(const char *msg)
{
        fprintf(stderr,
                "load-gen: %s\n"
                "usage: load-gen submit URL [-n N] [-c C] [--rate R] [--no-wait] [--source TEXT]\n"
                "                           [--expect-status S] [--expect-substr S] [--ids-out FILE] "
                "[--timeout-ms MS]\n"
                "       load-gen get URL --ids FILE [-n N] [-c C] [--final]\n"
                "       load-gen hold URL WS_URL --ids FILE [--ws N] [--waits M] [--source TEXT]\n"
                "       load-gen bare [-j J] [-n N | -d SEC] -- ARGV...\n"
                "       load-gen purge AMQP_URL QUEUE --expect N [--timeout-s S]\n",
                msg);
        exit(2);
}

static int cmd_http(int argc, char **argv, const char *mode)
{
        static const struct option opts[] = {
                {"n", required_argument, NULL, 'n'},
                {"concurrency", required_argument, NULL, 'c'},
                {"rate", required_argument, NULL, 'r'},
                {"no-wait", no_argument, NULL, 'W'},
                {"source", required_argument, NULL, 's'},
                {"expect-status", required_argument, NULL, 'S'},
                {"expect-substr", required_argument, NULL, 'X'},
                {"ids-out", required_argument, NULL, 'o'},
                {"ids", required_argument, NULL, 'i'},
                {"final", no_argument, NULL, 'F'},
                {"timeout-ms", required_argument, NULL, 't'},
                {"ws", required_argument, NULL, 'w'},
                {"waits", required_argument, NULL, 'm'},
                {NULL, 0, NULL, 0},
        };
        Run run = {.ep = -1, .n = 10000, .conc = 64, .timeout_ns = 120000000000ULL};
        bool hold = strcmp(mode, "hold") == 0, get = strcmp(mode, "get") == 0;
        const char *source = DEFAULT_SOURCE, *ids_out = NULL, *ids = NULL;
        bool no_wait = false;
        run.expect_status = get ? NULL : "ACCEPTED";
        long waits = 200;
        run.ws_target = 1000;
        int o;
        optind = 2;
        while ((o = getopt_long(argc, argv, "n:c:", opts, NULL)) >= 0) {
                switch (o) {
                case 'n':
                        run.n = atol(optarg);
                        break;
                case 'c':
                        run.conc = (unsigned)atol(optarg);
                        break;
                case 'r':
                        run.rate = atof(optarg);
                        break;
                case 'W':
                        no_wait = true;
                        break;
                case 's':
                        source = optarg;
                        break;
                case 'S':
                        run.expect_status = *optarg ? optarg : NULL;
                        break;
                case 'X':
                        run.expect_substr = optarg;
                        break;
                case 'o':
                        ids_out = optarg;
                        break;
                case 'i':
                        ids = optarg;
                        break;
                case 'F':
                        run.final = true;
                        break;
                case 't':
                        run.timeout_ns = (uint64_t)atol(optarg) * 1000000ULL;
                        break;
                case 'w':
                        run.ws_target = atol(optarg);
                        break;
                case 'm':
                        waits = atol(optarg);
                        break;
                default:
                        usage("unknown option");
                }
        }
        if (optind >= argc)
                usage("URL missing");
        if (parse_url(argv[optind], &run.addr, run.host, sizeof run.host) < 0)
                usage("URL must be http://IPv4:PORT");
        if (hold) {
                if (optind + 1 >= argc)
                        usage("WS_URL missing");
                if (parse_url(argv[optind + 1], &run.ws_addr, run.ws_host, sizeof run.ws_host) < 0)
                        usage("WS_URL must be ws://IPv4:PORT");
        }
        if (run.conc < 1 || run.n < 0)
                usage("bad -n or -c");
        if ((get || (hold && run.ws_target > 0)) && !ids)
                usage("--ids FILE is needed");
        if (ids) {
                run.ids = read_lines(ids, &run.n_ids);
                if (run.n_ids == 0)
                        usage("--ids: no ids in the file");
        }
        if (get) {
                run.kind = REQ_GET;
                run.expect_status = NULL;
        } else {
                run.kind = no_wait ? REQ_SUBMIT : REQ_SUBMIT_WAIT;
                if (no_wait && run.expect_status && strcmp(run.expect_status, "ACCEPTED") == 0)
                        run.expect_status = "QUEUED";
                char *esc = json_escape(source);
                size_t blen = strlen(esc) + 64;
                run.body = xmalloc(blen);
                snprintf(run.body, blen, "{\"language\": \"python\", \"source_code\": \"%s\"}", esc);
                free(esc);
        }
        if (ids_out) {
                run.ids_out = fopen(ids_out, "we");
                if (!run.ids_out) {
                        fprintf(stderr, "load-gen: %s: %s\n", ids_out, strerror(errno));
                        return 2;
                }
        }
        if (hold) {
                /* The waits are the requests; all of them at once, each on its own connection. */
                run.n = waits;
                run.conc = (unsigned)(waits > 0 ? waits : 1);
        }
        run.lat = xmalloc((size_t)(run.n > 0 ? run.n : 1) * sizeof *run.lat);

        raise_nofile();
        signal(SIGPIPE, SIG_IGN);
        run.ep = epoll_create1(EPOLL_CLOEXEC);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        struct epoll_event sev = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(run.ep, EPOLL_CTL_ADD, sigfd, &sev);

        run.t_start = now_ns();
        if (hold) {
                /* Waits first (their jobs must be queued before the probe), then the WebSockets. */
                dispatch(&run);
                run.holding = true;
                ws_start_more(&run);
                struct epoll_event iev = {.events = EPOLLIN, .data.ptr = &run};
                epoll_ctl(run.ep, EPOLL_CTL_ADD, STDIN_FILENO, &iev);
                bool ready = false;
                /* Hold until stdin closes or a signal; READY once everything is up. */
                struct epoll_event evs[256];
                for (bool stop = false; !stop;) {
                        int k = epoll_wait(run.ep, evs, 256, 100);
                        for (int i = 0; i < k && !stop; i++) {
                                if (evs[i].data.ptr == NULL)
                                        stop = true;
                                else if (evs[i].data.ptr == &run) {
                                        char b[256];
                                        ssize_t r = read(STDIN_FILENO, b, sizeof b);
                                        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                                                stop = true;
                                } else {
                                        Conn *c = evs[i].data.ptr;
                                        if (c->state == ST_DEAD)
                                                continue;
                                        if (c->kind == KIND_WS)
                                                ws_on_event(&run, c, evs[i].events);
                                        else
                                                http_on_event(&run, c, evs[i].events);
                                }
                        }
                        ws_start_more(&run);
                        long waits_sent = 0;
                        for (size_t j = 0; j < run.n_all; j++) {
                                Conn *c = run.all[j];
                                if (c->kind == KIND_HTTP && c->state != ST_DEAD && c->req >= 0 &&
                                        c->connected && c->out_off == c->out_len)
                                        waits_sent++;
                        }
                        if (!ready && run.ws_started == run.ws_target && ws_in_handshake(&run) == 0 &&
                                waits_sent + run.waits_answered + run.errors.total >= waits) {
                                ready = true;
                                printf("READY ws_open=%ld ws_queued=%ld waits_held=%ld setup_ms=%.0f\n",
                                        run.ws_open, run.ws_queued, waits_sent,
                                        (double)(now_ns() - run.t_start) / 1e6);
                                fflush(stdout);
                        }
                }
                long waits_held = 0;
                for (size_t j = 0; j < run.n_all; j++) {
                        Conn *c = run.all[j];
                        if (c->kind == KIND_HTTP && c->state != ST_DEAD && c->req >= 0)
                                waits_held++;
                }
                if (!ready)
                        err_add(&run.errors, "never_ready");
                printf("{\"mode\": \"hold\", \"ws_target\": %ld, \"ws_open\": %ld, \"ws_queued\": %ld, "
                       "\"ws_closed_early\": %ld, \"waits\": %ld, \"waits_held\": %ld, \"waits_answered\": "
                       "%ld, "
                       "\"held_s\": %.1f, \"errors_total\": %ld, \"errors\": ",
                        run.ws_target, run.ws_open, run.ws_queued, run.ws_closed_early, waits, waits_held,
                        run.waits_answered, (double)(now_ns() - run.t_start) / 1e9, run.errors.total);
                err_print_json(&run.errors, stdout);
                printf("}\n");
                fprintf(stderr,
                        "hold: %ld/%ld WebSockets open (%ld saw QUEUED), %ld/%ld waits held, %ld errors\n",
                        run.ws_open, run.ws_target, run.ws_queued, waits_held, waits, run.errors.total);
                long errs = run.errors.total;
                bool bad = errs > 0 || run.ws_queued != run.ws_target || waits_held != waits;
                run_free(&run);
                close(sigfd);
                return bad ? 1 : 0;
        }

        int r = run_loop(&run, sigfd);
        if (run.ids_out)
                fclose(run.ids_out);
        double elapsed = (double)((run.t_end > run.t_start ? run.t_end : now_ns()) - run.t_start) / 1e9;
        if (r == 1)
                err_add(&run.errors, "interrupted");
        printf("{\"mode\": \"%s\", \"n\": %ld, \"concurrency\": %u, \"rate_target\": %.1f, \"ok\": %ld, "
               "\"errors_total\": %ld, \"elapsed_s\": %.3f, \"rate\": %.2f, \"connections_opened\": %ld, ",
                run.kind == REQ_GET ? "get" : (run.kind == REQ_SUBMIT ? "submit-nowait" : "submit-wait"),
                run.n, run.conc, run.rate, run.ok, run.errors.total, elapsed,
                elapsed > 0 ? (double)run.ok / elapsed : 0, run.conns_opened);
        print_latency(&run, stdout);
        printf(", \"results_timed\": %ld, \"result_wall_ms_mean\": %.2f, \"result_cpu_ms_mean\": %.2f",
                run.n_timed, run.n_timed ? run.sum_wall_s * 1e3 / (double)run.n_timed : 0,
                run.n_timed ? run.sum_cpu_s * 1e3 / (double)run.n_timed : 0);
        printf(", \"errors\": ");
        err_print_json(&run.errors, stdout);
        printf("}\n");
        size_t n = (size_t)run.n_lat;
        fprintf(stderr,
                "%s: %ld ok of %ld in %.2f s = %.1f/s (c=%u), latency ms p50 %.1f p90 %.1f p99 %.1f max "
                "%.1f, "
                "%ld errors\n",
                mode, run.ok, run.n, elapsed, elapsed > 0 ? (double)run.ok / elapsed : 0, run.conc,
                pct(run.lat, n, 50), pct(run.lat, n, 90), pct(run.lat, n, 99), n ? run.lat[n - 1] : 0,
                run.errors.total);
        bool bad = run.errors.total > 0 || run.ok != run.n;
        run_free(&run);
        close(sigfd);
        return bad ? 1 : 0;
}

/* ---- bare: J loops of fork+exec+wait ---- */

static int cmd_bare(int argc, char **argv)
{
        long jobs = 2, n = 0;
        double dur = 0;
        int i = 2;
        for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (strcmp(argv[i], "-j") == 0 && i + 1 < argc)
                        jobs = atol(argv[++i]);
                else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
                        n = atol(argv[++i]);
                else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
                        dur = atof(argv[++i]);
                else
                        usage("bare: unknown option");
        }
        if (i + 1 >= argc || jobs < 1 || (n <= 0 && dur <= 0))
                usage("bare: need -n or -d, and -- ARGV");
        char **child_argv = argv + i + 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

        long cap = n > 0 ? n : 100000;
        double *lat = xmalloc((size_t)cap * sizeof *lat);
        pid_t *pids = xmalloc((size_t)jobs * sizeof *pids);
        uint64_t *starts = xmalloc((size_t)jobs * sizeof *starts);
        long started = 0, completed = 0, failed = 0;
        uint64_t t0 = now_ns(), deadline = dur > 0 ? t0 + (uint64_t)(dur * 1e9) : UINT64_MAX;
        long running = 0;
        for (long j = 0; j < jobs; j++)
                pids[j] = 0;
        for (;;) {
                uint64_t now = now_ns();
                for (long j = 0; j < jobs; j++)
                        if (pids[j] == 0 && now < deadline && (n <= 0 || started < n) && started < cap) {
                                starts[j] = now_ns();
                                if (posix_spawn(&pids[j], child_argv[0], &fa, NULL, child_argv, environ) !=
                                        0) {
                                        pids[j] = 0;
                                        failed++;
                                        continue;
                                }
                                started++;
                                running++;
                        }
                if (running == 0)
                        break;
                int st;
                pid_t p = waitpid(-1, &st, 0);
                if (p < 0)
                        break;
                uint64_t end = now_ns();
                for (long j = 0; j < jobs; j++)
                        if (pids[j] == p) {
                                pids[j] = 0;
                                running--;
                                if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                                        lat[completed++] = (double)(end - starts[j]) / 1e6;
                                else
                                        failed++;
                        }
        }
        double elapsed = (double)(now_ns() - t0) / 1e9;
        qsort(lat, (size_t)completed, sizeof *lat, cmp_double);
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        double cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                        (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        printf("{\"mode\": \"bare\", \"jobs\": %ld, \"runs\": %ld, \"failed\": %ld, \"elapsed_s\": %.3f, "
               "\"rate\": %.2f, \"cpu_ms_per_run\": %.2f, \"run_ms\": {\"p50\": %.2f, \"p90\": %.2f, "
               "\"p99\": %.2f}}\n",
                jobs, completed, failed, elapsed, (double)completed / elapsed,
                completed ? cpu_ms / (double)completed : 0, pct(lat, (size_t)completed, 50),
                pct(lat, (size_t)completed, 90), pct(lat, (size_t)completed, 99));
        fprintf(stderr, "bare: %ld runs in %.2f s on %ld loops = %.1f/s, median run %.2f ms, %ld failed\n",
                completed, elapsed, jobs, (double)completed / elapsed, pct(lat, (size_t)completed, 50),
                failed);
        posix_spawn_file_actions_destroy(&fa);
        free(lat);
        free(pids);
        free(starts);
        return failed ? 1 : 0;
}

/* ---- purge: empties a queue until N messages went ---- */

static int amqp_ok(amqp_rpc_reply_t r)
{
        return r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : -1;
}

static int cmd_purge(int argc, char **argv)
{
        if (argc < 4)
                usage("purge: AMQP_URL QUEUE needed");
        long expect = -1;
        double timeout_s = 30;
        for (int i = 4; i < argc; i++) {
                if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
                        expect = atol(argv[++i]);
                else if (strcmp(argv[i], "--timeout-s") == 0 && i + 1 < argc)
                        timeout_s = atof(argv[++i]);
                else
                        usage("purge: unknown option");
        }
        if (expect < 0)
                usage("purge: --expect N needed");
        char *url = xstrdup(argv[2]);
        struct amqp_connection_info ci;
        if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
                usage("purge: bad AMQP URL");
        /* "amqp://h:p/" parses to the empty vhost; the server's URL means the default one. */
        const char *vhost = ci.vhost && *ci.vhost ? ci.vhost : "/";
        amqp_connection_state_t conn = amqp_new_connection();
        amqp_socket_t *sock = amqp_tcp_socket_new(conn);
        if (!sock || amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK ||
                amqp_ok(amqp_login(
                        conn, vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password)) < 0 ||
                !amqp_channel_open(conn, 1) || amqp_ok(amqp_get_rpc_reply(conn)) < 0) {
                fprintf(stderr, "load-gen: purge: cannot connect to %s\n", argv[2]);
                free(url);
                return 1;
        }
        long purged = 0;
        uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
        int rc = 0;
        while (purged < expect) {
                amqp_queue_purge_ok_t *ok = amqp_queue_purge(conn, 1, amqp_cstring_bytes(argv[3]));
                if (!ok) {
                        fprintf(stderr, "load-gen: purge of %s failed\n", argv[3]);
                        rc = 1;
                        break;
                }
                purged += (long)ok->message_count;
                if (purged >= expect)
                        break;
                if (now_ns() > deadline) {
                        rc = 1;
                        break;
                }
                usleep(50000);
        }
        printf("{\"mode\": \"purge\", \"queue\": \"%s\", \"purged\": %ld, \"expected\": %ld}\n", argv[3],
                purged, expect);
        amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(conn);
        free(url);
        return rc || purged != expect ? 1 : 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                usage("a mode is needed");
        const char *mode = argv[1];
        if (strcmp(mode, "submit") == 0 || strcmp(mode, "get") == 0 || strcmp(mode, "hold") == 0)
                return cmd_http(argc, argv, mode);
        if (strcmp(mode, "bare") == 0)
                return cmd_bare(argc, argv);
        if (strcmp(mode, "purge") == 0)
                return cmd_purge(argc, argv);
        usage("unknown mode");
}
