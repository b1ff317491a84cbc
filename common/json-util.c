/* SPDX-License-Identifier: Apache-2.0 */
/* JSON helpers on jansson. */
#include "json-util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"
#include "cleanup.h"

/* The valid UTF-8 character at p: its length, or 0 when invalid or NUL (which a C string cannot
 * carry). */
static size_t utf8_valid_len(const unsigned char *p, size_t left)
{
        return p[0] == 0 ? 0 : utf8_char_len(p, left);
}

json_t *json_string_lossy(const char *data, size_t len)
{
        const unsigned char *p = (const unsigned char *)data;
        size_t i = 0, bad = 0;
        while (i < len) {
                size_t n = utf8_valid_len(p + i, len - i);
                if (n == 0) {
                        bad++;
                        i++;
                } else
                        i += n;
        }
        if (bad == 0)
                return json_stringn(data, len);

        /* Each bad byte becomes the 3-byte U+FFFD. */
        _cleanup_free_ char *out = malloc(len + bad * 2 + 1);
        if (!out)
                return NULL;
        size_t o = 0;
        i = 0;
        while (i < len) {
                size_t n = utf8_valid_len(p + i, len - i);
                if (n == 0) {
                        memcpy(out + o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(out + o, p + i, n);
                        o += n;
                        i += n;
                }
        }
        return json_stringn(out, o);
}

size_t json_depth(const json_t *j)
{
        size_t max = 0;
        if (json_is_object(j)) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)j, k, v) {
                        size_t d = json_depth(v);
                        if (d > max)
                                max = d;
                }
                return max + 1;
        }
        if (json_is_array(j)) {
                size_t i;
                json_t *v;
                json_array_foreach(j, i, v) {
                        size_t d = json_depth(v);
                        if (d > max)
                                max = d;
                }
                return max + 1;
        }
        return 0;
}

/* Nesting depth measured on the raw text, before jansson recurses into it. Strings are skipped. */
static size_t text_depth(const char *data, size_t len)
{
        size_t depth = 0, max = 0;
        bool in_str = false, esc = false;
        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (in_str) {
                        if (esc)
                                esc = false;
                        else if (c == '\\')
                                esc = true;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max)
                                max = depth;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return max;
}

int json_load_buffer(const char *data, size_t len, size_t max_depth, json_t **ret, char *errbuf, size_t errlen)
{
        if (text_depth(data, len) > max_depth) {
                snprintf(errbuf, errlen, "nested deeper than %zu levels", max_depth);
                return -EINVAL;
        }
        json_error_t e;
        json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
        if (!j) {
                snprintf(errbuf, errlen, "%d:%d: %s", e.line, e.column, e.text);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

int json_load_fd(int fd, size_t max_bytes, size_t max_depth, json_t **ret, char *errbuf, size_t errlen)
{
        size_t alloc = 8192, len = 0;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == alloc) {
                        if (alloc > max_bytes) {
                                snprintf(errbuf, errlen, "larger than %zu bytes", max_bytes);
                                return -EFBIG;
                        }
                        alloc *= 2;
                        char *p = realloc(buf, alloc);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                ssize_t n = read(fd, buf + len, alloc - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max_bytes) {
                snprintf(errbuf, errlen, "larger than %zu bytes", max_bytes);
                return -EFBIG;
        }
        return json_load_buffer(buf, len, max_depth, ret, errbuf, errlen);
}
