/* SPDX-License-Identifier: Apache-2.0 */
/* The browser editor's files from SENTINEL_WEB_ROOT, looked up without ever leaving the root. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "log.h"
#include "uuid.h"

#define NAME_MAX_LEN 255
#define PATH_MAX_LEN 1024
#define MAX_DEPTH    4

/* index.html changes with every build and must be revalidated; files below assets/ carry a
 * content hash in their name, so a cached copy is never stale. */
#define CACHE_PAGE  "no-cache"
#define CACHE_ASSET "public, max-age=31536000, immutable"

struct WebRoot {
        int dirfd;
        char *path;
};

/* Opens the web root once, at start; NULL (no page) for an empty dir. 0 or -errno. */
int web_root_open(const char *dir, WebRoot **ret)
{
        if (!dir || !*dir) {
                *ret = NULL;
                return 0;
        }
        /* The operator's path may itself go through symlinks; what lies below it may not. */
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        WebRoot *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->path = strdup(dir);
        if (!w->path) {
                free(w);
                return -ENOMEM;
        }
        w->dirfd = TAKE_FD(fd);
        *ret = w;
        return 0;
}

WebRoot *web_root_free(WebRoot *w)
{
        if (!w)
                return NULL;
        safe_close(w->dirfd);
        free(w->path);
        free(w);
        return NULL;
}

/* One path component we would serve: [A-Za-z0-9._-]{1,255}, no leading dot. */
bool static_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > NAME_MAX_LEN || name[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '.' || c == '_' || c == '-';
                if (!ok)
                        return false;
        }
        return true;
}

/* Opens a regular file below w without following symlinks; the caller owns *ret_fd. 0, -EINVAL
 * (a path we refuse), -ELOOP/-ENOTDIR (a symlink on the way), -ENOENT, or another -errno. */
int static_open(const WebRoot *w, const char *relpath, int *ret_fd, uint64_t *ret_size)
{
        if (!w)
                return -ENOENT;
        size_t len = strlen(relpath);
        if (len == 0 || len > PATH_MAX_LEN)
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(relpath);
        if (!copy)
                return -ENOMEM;

        /* Split first, so that a bad component anywhere refuses the path before any lookup. */
        char *parts[MAX_DEPTH];
        size_t nparts = 0;
        for (char *p = copy;;) {
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                if (nparts == MAX_DEPTH || !static_name_valid(p))
                        return -EINVAL;
                parts[nparts++] = p;
                if (!slash)
                        break;
                p = slash + 1;
        }

        /* One component at a time from the root's fd: O_NOFOLLOW on each, so a symlink anywhere
         * below the root (to a directory or a file) is refused rather than followed. */
        _cleanup_close_ int dir = -1;
        int at = w->dirfd;
        for (size_t i = 0; i + 1 < nparts; i++) {
                int fd = openat(at, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                safe_close(dir);
                dir = at = fd;
        }
        _cleanup_close_ int fd =
                openat(at, parts[nparts - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -ENOENT; /* a directory, FIFO or device: nothing to serve */
        *ret_size = (uint64_t)st.st_size;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The Content-Type for a file name's extension; application/octet-stream when unknown. */
const char *static_content_type(const char *name)
{
        static const struct {
                const char *ext, *type;
        } types[] = {
                {".html", "text/html; charset=utf-8"},
                {".js", "text/javascript; charset=utf-8"},
                {".mjs", "text/javascript; charset=utf-8"},
                {".css", "text/css; charset=utf-8"},
                {".json", "application/json"},
                {".map", "application/json"},
                {".svg", "image/svg+xml"},
                {".png", "image/png"},
                {".ico", "image/x-icon"},
                {".ttf", "font/ttf"},
                {".woff", "font/woff"},
                {".woff2", "font/woff2"},
                {".txt", "text/plain; charset=utf-8"},
                {".webmanifest", "application/manifest+json"},
        };
        const char *dot = strrchr(name, '.');
        if (dot)
                for (size_t i = 0; i < ELEMENTSOF(types); i++)
                        if (strcasecmp(dot, types[i].ext) == 0)
                                return types[i].type;
        return "application/octet-stream";
}

/* The host part of a Host header ("h:port", "[v6]:port", "h"), if it is safe to put in a header. */
static bool host_name(const char *host, char *buf, size_t len)
{
        if (!host || !*host)
                return false;
        size_t n;
        if (host[0] == '[') {
                const char *end = strchr(host, ']');
                if (!end)
                        return false;
                n = (size_t)(end - host) + 1;
                for (size_t i = 1; i + 1 < n; i++)
                        if (!strchr("0123456789abcdefABCDEF:.", host[i]))
                                return false;
        } else {
                n = strcspn(host, ":");
                for (size_t i = 0; i < n; i++) {
                        char c = host[i];
                        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                    c == '.' || c == '-'))
                                return false;
                }
        }
        if (n == 0 || n >= len)
                return false;
        memcpy(buf, host, n);
        buf[n] = '\0';
        return true;
}

/* The page's CSP: the WebSocket port of the host the page came from, when the Host header is a
 * plain host name or address (anything else is left out, never copied into the header). */
void static_page_csp(const char *host, uint64_t ws_port, char *buf, size_t len)
{
        char name[256], ws[600] = "";
        if (host_name(host, name, sizeof name))
                snprintf(ws, sizeof ws, " ws://%s:%" PRIu64 " wss://%s:%" PRIu64, name, ws_port, name,
                        ws_port);
        /* 'unsafe-inline' styles: Monaco writes <style> elements and style attributes at run
         * time (themes, decorations, layout). Styles cannot run script; scripts stay 'self'. */
        snprintf(buf, len,
                "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' "
                "'unsafe-inline'; "
                "font-src 'self'; img-src 'self' data:; connect-src 'self'%s; base-uri 'none'; form-action "
                "'none'; "
                "frame-ancestors 'none'",
                ws);
}

static bool accepts_gzip(Request *rq)
{
        const char *ae = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Accept-Encoding");
        return ae && strstr(ae, "gzip");
}

/* Serves relpath below the web root: its precompressed ".gz" sibling when the client takes gzip
 * and the build left one, else the file itself. */
static void serve(Request *rq, const char *relpath, const char *cache_control, const char *csp)
{
        WebRoot *w = rq->srv->web;
        if (!w) {
                respond_error(rq, 404, "not_found", NULL,
                        "the browser editor is not installed here (build web/ and set SENTINEL_WEB_ROOT)");
                return;
        }
        int fd = -1;
        uint64_t size = 0;
        const char *encoding = NULL;
        char gz[PATH_MAX_LEN + 8];
        int r = -ENOENT;
        if (accepts_gzip(rq) && snprintf(gz, sizeof gz, "%s.gz", relpath) < (int)sizeof gz) {
                r = static_open(w, gz, &fd, &size);
                if (r >= 0)
                        encoding = "gzip";
        }
        if (r < 0)
                r = static_open(w, relpath, &fd, &size);
        if (r < 0) {
                if (r != -ENOENT && r != -EINVAL && r != -ELOOP && r != -ENOTDIR)
                        log_warning("web root %s: cannot open \"%s\": %s", w->path, relpath, strerror(-r));
                respond_error(rq, 404, "not_found", NULL, "no such file");
                return;
        }
        respond_file(rq, 200, static_content_type(relpath), fd, size, encoding, cache_control, csp);
}

/* GET / and /s/{id} (a submission id, else 404): index.html with the page's CSP, revalidated. */
void static_index(Request *rq)
{
        Uuid id;
        if (rq->path_id[0] && uuid_parse(rq->path_id, strlen(rq->path_id), &id) < 0) {
                respond_error(rq, 404, "not_found", NULL, "a shared link names a submission id");
                return;
        }
        char csp[1024];
        static_page_csp(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host"),
                rq->srv->cfg->public_ws_port ? rq->srv->cfg->public_ws_port : rq->srv->cfg->ws_port, csp, sizeof csp);
        serve(rq, "index.html", CACHE_PAGE, csp);
}

/* GET /assets/{name}: a hashed build file, cached for a year. */
void static_asset(Request *rq)
{
        char path[PATH_MAX_LEN];
        if (!static_name_valid(rq->path_id) ||
                snprintf(path, sizeof path, "assets/%s", rq->path_id) >= (int)sizeof path) {
                respond_error(rq, 404, "not_found", NULL, "no such file");
                return;
        }
        serve(rq, path, CACHE_ASSET, NULL);
}

/* GET /api/v1/config: {ws_port, ws_path, limits{default, max}, max_source_kb, max_stdin_kb,
 * max_body_kb}, seconds for times and KiB for sizes as in a submission's limits. */
void static_config(Request *rq)
{
        const Config *c = rq->srv->cfg;
        json_t *o = json_pack(
                "{s:I, s:s, s:{s:{s:f, s:f, s:I, s:I, s:I}, s:{s:f, s:f, s:I, s:I, s:I}}, s:I, s:I, s:I}",
                "ws_port", (json_int_t)(c->public_ws_port ? c->public_ws_port : c->ws_port), "ws_path", "/ws/submissions/", "limits", "default",
                "cpu_time", (double)c->run_default.cpu_ms / 1000.0, "wall_time",
                (double)c->run_default.wall_ms / 1000.0, "memory", (json_int_t)c->run_default.memory_kb,
                "pids", (json_int_t)c->run_default.pids, "output", (json_int_t)c->run_default.output_kb,
                "max", "cpu_time", (double)c->run_max.cpu_ms / 1000.0, "wall_time",
                (double)c->run_max.wall_ms / 1000.0, "memory", (json_int_t)c->run_max.memory_kb, "pids",
                (json_int_t)c->run_max.pids, "output", (json_int_t)c->run_max.output_kb, "max_source_kb",
                (json_int_t)c->max_source_kb, "max_stdin_kb", (json_int_t)c->max_stdin_kb, "max_body_kb",
                (json_int_t)c->max_body_kb);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) {
                respond_error(rq, 503, "unavailable", NULL, "out of memory");
                return;
        }
        respond_json(rq, 200, s);
}
