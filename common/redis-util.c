/* SPDX-License-Identifier: Apache-2.0 */
/* Redis helpers: connecting from a URL. */
#include "redis-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Splits redis://[:password@]host[:port][/db] (also user:password@). */
static int parse_url(const char *url, char *host, size_t hostlen, int *port, char *password, size_t pwlen, int *db)
{
        const char *p = url;
        if (strncmp(p, "redis://", 8) != 0)
                return -EINVAL;
        p += 8;
        *password = '\0';
        const char *at = strchr(p, '@');
        if (at) {
                const char *colon = memchr(p, ':', (size_t)(at - p));
                const char *pw = colon ? colon + 1 : p;
                size_t n = (size_t)(at - pw);
                if (n >= pwlen)
                        return -EINVAL;
                memcpy(password, pw, n);
                password[n] = '\0';
                p = at + 1;
        }
        size_t hl = strcspn(p, ":/");
        if (hl == 0 || hl >= hostlen)
                return -EINVAL;
        memcpy(host, p, hl);
        host[hl] = '\0';
        p += hl;
        *port = 6379;
        *db = 0;
        if (*p == ':') {
                char *end;
                long v = strtol(p + 1, &end, 10);
                if (end == p + 1 || v < 1 || v > 65535)
                        return -EINVAL;
                *port = (int)v;
                p = end;
        }
        if (*p == '/' && p[1]) {
                char *end;
                long v = strtol(p + 1, &end, 10);
                if (end == p + 1 || *end || v < 0 || v > 1000)
                        return -EINVAL;
                *db = (int)v;
        } else if (*p && strcmp(p, "/") != 0)
                return -EINVAL;
        return 0;
}

int redis_util_connect(const char *url, int timeout_ms, redisContext **ret, char *errbuf, size_t errlen)
{
        char host[256], password[256];
        int port, db;
        if (parse_url(url, host, sizeof host, &port, password, sizeof password, &db) < 0) {
                snprintf(errbuf, errlen, "SENTINEL_REDIS_URL is not a redis://host:port/db URL");
                return -EINVAL;
        }
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        _cleanup_redis_ redisContext *c = redisConnectWithTimeout(host, port, tv);
        if (!c)
                return -ENOMEM;
        if (c->err) {
                snprintf(errbuf, errlen, "cannot reach Redis at %s:%d: %s", host, port, c->errstr);
                return -ECONNREFUSED;
        }
        redisSetTimeout(c, tv);
        redisEnableKeepAlive(c);
        if (*password) {
                _cleanup_reply_ redisReply *r = redisCommand(c, "AUTH %s", password);
                if (!r || r->type == REDIS_REPLY_ERROR) {
                        snprintf(errbuf, errlen, "Redis AUTH failed: %s", r ? r->str : c->errstr);
                        return -EACCES;
                }
        }
        if (db != 0) {
                _cleanup_reply_ redisReply *r = redisCommand(c, "SELECT %d", db);
                if (!r || r->type == REDIS_REPLY_ERROR) {
                        snprintf(errbuf, errlen, "Redis SELECT %d failed: %s", db, r ? r->str : c->errstr);
                        return -EINVAL;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}
