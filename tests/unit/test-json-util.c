/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: JSON helpers (common/json-util.c): lossy strings, bounded loading. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "json-util.h"

#define FFFD "\xEF\xBF\xBD"

/* json_string_lossy(in) holds exactly out. */
static void check_lossy(const char *what, const char *in, size_t len, const char *out, size_t outlen)
{
        json_auto_t *j = json_string_lossy(in, len);
        CHECK(json_is_string(j), "%s: not a string", what);
        if (!j)
                return;
        CHECK(json_string_length(j) == outlen && memcmp(json_string_value(j), out, outlen) == 0,
                "%s: got %zu bytes \"%s\"", what, json_string_length(j), json_string_value(j));
}

#define LOSSY(what, in, out) check_lossy(what, in, sizeof(in) - 1, out, sizeof(out) - 1)

static void test_lossy(void)
{
        LOSSY("empty", "", "");
        LOSSY("ascii", "hello\n", "hello\n");
        LOSSY("2-byte", "caf\xC3\xA9", "caf\xC3\xA9");
        LOSSY("3-byte", "\xE2\x82\xAC", "\xE2\x82\xAC");
        LOSSY("4-byte", "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80");
        LOSSY("max code point", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF");
        LOSSY("lone continuation", "a\x80z", "a" FFFD "z");
        LOSSY("invalid byte ff", "\xFF", FFFD);
        LOSSY("latin-1", "caf\xE9!", "caf" FFFD "!");
        LOSSY("NUL", "a\0b", "a" FFFD "b");
        LOSSY("overlong slash", "\xC0\xAF", FFFD FFFD);
        LOSSY("overlong NUL", "\xC0\x80", FFFD FFFD);
        LOSSY("overlong 3-byte", "\xE0\x80\xAF", FFFD FFFD FFFD);
        LOSSY("overlong 4-byte", "\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD);
        LOSSY("surrogate high", "\xED\xA0\x80", FFFD FFFD FFFD);
        LOSSY("surrogate low", "x\xED\xBF\xBFy", "x" FFFD FFFD FFFD "y");
        LOSSY("above U+10FFFF", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);
        LOSSY("5-byte lead", "\xF8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
        LOSSY("truncated at end", "ok\xE2\x82", "ok" FFFD FFFD);
        LOSSY("truncated mid", "\xE2\x82" "A", FFFD FFFD "A");
        LOSSY("valid around invalid", "\xC3\xA9\xFF\xC3\xA9", "\xC3\xA9" FFFD "\xC3\xA9");

        /* Only len bytes are read: a length cut through a sequence is invalid, not an overread. */
        check_lossy("length cut", "\xC3\xA9", 1, FFFD, 3);
        check_lossy("length zero", "abc", 0, "", 0);
}

static void test_buffer(void)
{
        char err[256];
        json_t *j = NULL;

        const char *ok = "{\"a\": [1, {\"b\": null}], \"s\": \"[[[[\"}";
        CHECK(json_load_buffer(ok, strlen(ok), 3, &j, err, sizeof err) == 0, "ok: %s", err);
        CHECK(json_depth(j) == 3, "depth %zu", json_depth(j));
        json_decref(j);
        j = NULL;

        /* Brackets inside strings do not count; escaped quotes do not end the string. */
        const char *str = "[\"\\\"[[[[[[\"]";
        CHECK(json_load_buffer(str, strlen(str), 1, &j, err, sizeof err) == 0, "brackets in string: %s", err);
        json_decref(j);
        j = NULL;

        const char *deep = "[[[[1]]]]";
        CHECK(json_load_buffer(deep, strlen(deep), 4, &j, err, sizeof err) == 0, "depth 4 at limit 4: %s", err);
        json_decref(j);
        j = NULL;
        CHECK(json_load_buffer(deep, strlen(deep), 3, &j, err, sizeof err) == -EINVAL, "depth 4 at limit 3");
        CHECK(strstr(err, "deeper than 3"), "depth message: %s", err);
        CHECK(!j, "ret written on failure");

        /* Very deep input is refused before jansson recurses into it. */
        size_t n = 100000;
        _cleanup_free_ char *huge = malloc(2 * n);
        CHECK(huge, "malloc");
        if (huge) {
                memset(huge, '[', n);
                memset(huge + n, ']', n);
                CHECK(json_load_buffer(huge, 2 * n, 16, &j, err, sizeof err) == -EINVAL, "100000 levels");
        }

        static const char *const broken[] = {
                "", "{", "{\"a\":}", "[1,]", "{\"a\":1,\"a\":2}", "nul", "{\"a\":1} x", "\"scalar\"", "{\"\\u0000\":1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
                err[0] = '\0';
                CHECK(json_load_buffer(broken[i], strlen(broken[i]), 16, &j, err, sizeof err) == -EINVAL,
                        "broken \"%s\" accepted", broken[i]);
                int line = 0, col = 0;
                CHECK(sscanf(err, "%d:%d: ", &line, &col) == 2 && line >= 0 && strlen(err) > 5,
                        "broken \"%s\": message \"%s\" is not line:col: text", broken[i], err);
        }
        const char *multi = "{\n\"a\": 1,\n\"b\" 2}";
        CHECK(json_load_buffer(multi, strlen(multi), 16, &j, err, sizeof err) == -EINVAL && strncmp(err, "3:", 2) == 0,
                "line number: %s", err);

        CHECK(json_depth(NULL) == 0, "depth of NULL");
        json_auto_t *scalar = json_integer(1);
        CHECK(json_depth(scalar) == 0, "depth of a scalar");
}

typedef struct Writer {
        int fd;
        size_t bytes;
        char fill;
} Writer;

/* Writes {"x":"<fill...>"} of w->bytes bytes to a pipe, then closes it. Write errors (the reader
 * gave up) end it early. */
static void *writer_thread(void *userdata)
{
        Writer *w = userdata;
        char buf[4096];
        size_t sent = 0;
        while (sent < w->bytes) {
                size_t n = MIN(sizeof buf, w->bytes - sent);
                memset(buf, w->fill, n);
                if (sent == 0)
                        memcpy(buf, "{\"x\":\"", MIN(n, 6));
                if (sent + n == w->bytes && n >= 2)
                        memcpy(buf + n - 2, "\"}", 2);
                ssize_t k = write(w->fd, buf, n);
                if (k <= 0)
                        break;
                sent += (size_t)k;
        }
        close(w->fd);
        return NULL;
}

static int load_pipe(size_t bytes, size_t max, json_t **ret, char *err, size_t errlen)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        Writer w = {.fd = p[1], .bytes = bytes, .fill = 'a'};
        pthread_t t;
        if (pthread_create(&t, NULL, writer_thread, &w) != 0) {
                close(p[0]);
                close(p[1]);
                return -EAGAIN;
        }
        int r = json_load_fd(p[0], max, 16, ret, err, errlen);
        close(p[0]); /* a writer still blocked gets EPIPE */
        pthread_join(t, NULL);
        return r;
}

static void test_fd(void)
{
        char err[256];
        json_t *j = NULL;

        CHECK(load_pipe(100, 1024, &j, err, sizeof err) == 0, "small: %s", err);
        CHECK(json_is_string(json_object_get(j, "x")) && json_string_length(json_object_get(j, "x")) == 100 - 8,
                "small content");
        json_decref(j);
        j = NULL;

        CHECK(load_pipe(1024, 1024, &j, err, sizeof err) == 0, "exactly max: %s", err);
        json_decref(j);
        j = NULL;
        CHECK(load_pipe(1025, 1024, &j, err, sizeof err) == -EFBIG, "max + 1");
        CHECK(strstr(err, "larger than 1024"), "size message: %s", err);

        /* Across the 8 KiB initial buffer and its growth. */
        CHECK(load_pipe(100000, 1 << 20, &j, err, sizeof err) == 0, "100 kB: %s", err);
        json_decref(j);
        j = NULL;
        CHECK(load_pipe((1 << 20) + 1, 1 << 20, &j, err, sizeof err) == -EFBIG, "1 MiB + 1");
        /* A writer that never stops is cut off, not read to the end. */
        CHECK(load_pipe((size_t)64 << 20, 1 << 20, &j, err, sizeof err) == -EFBIG, "64 MiB");
        CHECK(!j, "ret written on failure");

        CHECK(json_load_fd(-1, 1024, 16, &j, err, sizeof err) == -EBADF, "bad fd");
}

int main(void)
{
        /* The pipe writers see EPIPE, not a signal, when the reader stops early. */
        signal(SIGPIPE, SIG_IGN);
        test_lossy();
        test_buffer();
        test_fd();
        return test_summary();
}
