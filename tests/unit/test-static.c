/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the browser editor's file lookup (api/static.c): names, traversal, symlinks, types, CSP. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "static.h"
#include "test-util.h"

/* static.c's route handlers answer through server.c, which this test does not link. */
void respond_json(Request *rq, unsigned status, char *body_owned)
{
        (void)rq, (void)status;
        free(body_owned);
}
void respond_error(Request *rq, unsigned status, const char *code, const char *field, const char *fmt, ...)
{
        (void)rq, (void)status, (void)code, (void)field, (void)fmt;
}
void respond_file(Request *rq, unsigned status, const char *content_type, int fd, uint64_t size,
        const char *encoding, const char *cache_control, const char *csp)
{
        (void)rq, (void)status, (void)content_type, (void)size, (void)encoding, (void)cache_control,
                (void)csp;
        safe_close(fd);
}

static void write_file(int dirfd, const char *name, const char *text)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0, "%s: %m", name);
        if (fd >= 0)
                CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
}

static void test_names(void)
{
        const char *good[] = {"index.html", "index-BX3a_9.js", "codicon-DCmgc-ay.ttf", "a", "x.y.z"};
        const char *bad[] = {
                "", ".", "..", ".hidden", "a/b", "a\\b", "a b", "%2e%2e", "a\n", "é", "a:b", "a?b"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                CHECK(static_name_valid(good[i]), "%s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(!static_name_valid(bad[i]), "\"%s\"", bad[i]);
        char longname[300];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        CHECK(!static_name_valid(longname));
        longname[255] = '\0';
        CHECK(static_name_valid(longname));
}

static void test_lookup(void)
{
        char tmpl[] = "/tmp/sentinel-static-XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        char root[sizeof tmpl + 8], outside[sizeof tmpl + 16];
        snprintf(root, sizeof root, "%s/root", tmpl);
        snprintf(outside, sizeof outside, "%s/secret", tmpl);
        CHECK(mkdir(root, 0755) == 0);
        _cleanup_close_ int top = open(tmpl, O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int rfd = open(root, O_DIRECTORY | O_CLOEXEC);
        write_file(top, "secret", "do not serve");
        write_file(rfd, "index.html", "<!doctype html>");
        CHECK(mkdirat(rfd, "assets", 0755) == 0);
        _cleanup_close_ int afd = openat(rfd, "assets", O_DIRECTORY | O_CLOEXEC);
        write_file(afd, "app-1.js", "1");
        CHECK(mkdirat(afd, "sub", 0755) == 0);
        CHECK(symlinkat(outside, afd, "escape.js") == 0);     /* absolute, out of the root */
        CHECK(symlinkat("../../secret", afd, "rel.js") == 0); /* relative, out of the root */
        CHECK(symlinkat("app-1.js", afd, "inside.js") == 0);  /* even one inside is refused */
        CHECK(symlinkat(tmpl, rfd, "up") == 0);               /* a directory symlink */
        CHECK(mkfifoat(afd, "fifo.js", 0644) == 0);

        WebRoot *w = NULL;
        CHECK(web_root_open("", &w) == 0 && w == NULL);
        CHECK(web_root_open("/nonexistent/sentinel", &w) == -ENOENT);
        CHECK(web_root_open(outside, &w) == -ENOTDIR);
        CHECK(web_root_open(root, &w) == 0 && w != NULL);

        int fd = -1;
        uint64_t size = 0;
        CHECK(static_open(w, "index.html", &fd, &size) == 0 && fd >= 0 && size == 15);
        fd = safe_close(fd);
        CHECK(static_open(w, "assets/app-1.js", &fd, &size) == 0 && size == 1);
        fd = safe_close(fd);

        static const struct {
                const char *path;
                int err;
        } refused[] = {
                {"", -EINVAL},
                {"/index.html", -EINVAL},
                {"index.html/", -EINVAL},
                {"assets//app-1.js", -EINVAL},
                {"../secret", -EINVAL},
                {"assets/../../secret", -EINVAL},
                {"assets/./app-1.js", -EINVAL},
                {"./index.html", -EINVAL},
                {"a/b/c/d/e", -EINVAL},
                {"missing.html", -ENOENT},
                {"assets/escape.js", -ELOOP},
                {"assets/rel.js", -ELOOP},
                {"assets/inside.js", -ELOOP},
                {"up/secret", -ENOTDIR},
                {"up/root/index.html", -ENOTDIR},
                {"assets", -ENOENT}, /* a directory is not a file to serve */
                {"assets/sub", -ENOENT},
                {"assets/fifo.js", -ENOENT},
                {"index.html/x", -ENOTDIR},
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                fd = -1;
                int r = static_open(w, refused[i].path, &fd, &size);
                CHECK(r == refused[i].err && fd == -1, "\"%s\": %d, expected %d", refused[i].path, r,
                        refused[i].err);
                fd = safe_close(fd);
        }
        CHECK(static_open(NULL, "index.html", &fd, &size) == -ENOENT);
        web_root_free(w);

        /* Clean up what we made (the directory tree is ours; symlinks are removed, not followed). */
        unlinkat(afd, "escape.js", 0), unlinkat(afd, "rel.js", 0), unlinkat(afd, "inside.js", 0);
        unlinkat(afd, "fifo.js", 0), unlinkat(afd, "app-1.js", 0), unlinkat(afd, "sub", AT_REMOVEDIR);
        unlinkat(rfd, "assets", AT_REMOVEDIR), unlinkat(rfd, "index.html", 0), unlinkat(rfd, "up", 0);
        unlinkat(top, "root", AT_REMOVEDIR), unlinkat(top, "secret", 0);
        CHECK(rmdir(tmpl) == 0, "%m");
}

static void test_types_and_csp(void)
{
        CHECK(strcmp(static_content_type("index.html"), "text/html; charset=utf-8") == 0);
        CHECK(strcmp(static_content_type("assets/x-1.js"), "text/javascript; charset=utf-8") == 0);
        CHECK(strcmp(static_content_type("a.CSS"), "text/css; charset=utf-8") == 0);
        CHECK(strcmp(static_content_type("codicon.ttf"), "font/ttf") == 0);
        CHECK(strcmp(static_content_type("noext"), "application/octet-stream") == 0);
        CHECK(strcmp(static_content_type("x.exe"), "application/octet-stream") == 0);

        char csp[1024];
        static_page_csp("127.0.0.1:8080", 8081, csp, sizeof csp);
        CHECK(strstr(csp, "connect-src 'self' ws://127.0.0.1:8081 wss://127.0.0.1:8081;"), "%s", csp);
        CHECK(strstr(csp, "script-src 'self';") && strstr(csp, "worker-src 'self';") &&
                        strstr(csp, "frame-ancestors 'none'") && !strstr(csp, "unsafe-eval"),
                "%s", csp);
        static_page_csp("[::1]:8080", 9, csp, sizeof csp);
        CHECK(strstr(csp, "ws://[::1]:9 "), "%s", csp);
        static_page_csp("example.org", 8081, csp, sizeof csp);
        CHECK(strstr(csp, "ws://example.org:8081 "), "%s", csp);
        /* A Host header that could smuggle directives is left out, not copied. */
        const char *hostile[] = {"a; script-src *", "x y", "[::1;]", "", "a'b", NULL};
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                static_page_csp(hostile[i], 8081, csp, sizeof csp);
                CHECK(strstr(csp, "connect-src 'self';") && !strstr(csp, "ws://"), "%s: %s", hostile[i],
                        csp);
        }
}

int main(void)
{
        test_names();
        test_lookup();
        test_types_and_csp();
        return test_summary();
}
