/* SPDX-License-Identifier: Apache-2.0 */
/* The event hub: Redis Streams to ?wait=true requests and WebSocket clients. */
#include "hub.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "log.h"
#include "redis-util.h"
#include "time-util.h"

#define READ_BLOCK_MS 5000
#define READ_COUNT 512
#define SWEEP_MS 5000 /* every watched stream is re-read this often, notified or not */
#define REDIS_TIMEOUT_MS 8000 /* above READ_BLOCK_MS: a blocked XREAD is not a timeout */
#define CTL_TIMEOUT_MS 2000
#define RECONNECT_MS 500
#define ENTRY_ID_MAX 48

typedef struct Stream Stream;

struct HubWatch {
        Stream *stream;
        HubEventFn fn;
        void *userdata;
        bool needs_replay; /* joined a stream already being read: gets its past entries first */
        HubWatch *next;
};

struct Stream {
        Uuid id;
        char key[64];            /* EVENTS_KEY_PREFIX + id; as large as the wake key */
        char last[ENTRY_ID_MAX]; /* last entry delivered */
        bool dirty;              /* may have entries after `last`: read it */
        HubWatch *watches;
        Stream *next;
};

struct Hub {
        const Config *cfg;
        pthread_t thread;
        pthread_mutex_t lock; /* streams and watches */
        Stream *streams;
        bool stop;
        atomic_bool connected;
        char wake_key[64];
        char wake_last[ENTRY_ID_MAX];
        char notify_last[ENTRY_ID_MAX];
        uint64_t sweep_ms;

        pthread_mutex_t ctl_lock;
        redisContext *ctl;
        uint64_t ctl_retry_ms;
};

/* Runs a command on the control connection, (re)connecting as needed. Caller holds ctl_lock. */
static redisReply *ctl_command_argv(Hub *h, int argc, const char **argv, const size_t *lens)
{
        if (!h->ctl) {
                if (now_monotonic_ms() < h->ctl_retry_ms)
                        return NULL;
                char err[256];
                if (redis_util_connect(h->cfg->redis_url, CTL_TIMEOUT_MS, &h->ctl, err, sizeof err) < 0) {
                        log_debug("hub: %s", err);
                        h->ctl_retry_ms = now_monotonic_ms() + RECONNECT_MS;
                        return NULL;
                }
        }
        redisReply *r = redisCommandArgv(h->ctl, argc, argv, lens);
        if (!r) {
                redisFree(h->ctl);
                h->ctl = NULL;
        }
        return r;
}

static void wake_reader(Hub *h)
{
        const char *argv[] = {"XADD", h->wake_key, "MAXLEN", "~", "64", "*", "w", "1"};
        pthread_mutex_lock(&h->ctl_lock);
        redisReply *r = ctl_command_argv(h, (int)ELEMENTSOF(argv), argv, NULL);
        if (r)
                freeReplyObject(r);
        pthread_mutex_unlock(&h->ctl_lock);
}

int hub_ping(Hub *h)
{
        const char *argv[] = {"PING"};
        pthread_mutex_lock(&h->ctl_lock);
        redisReply *r = ctl_command_argv(h, 1, argv, NULL);
        int ret = r && r->type == REDIS_REPLY_STATUS ? 0 : -EAGAIN;
        if (r)
                freeReplyObject(r);
        pthread_mutex_unlock(&h->ctl_lock);
        return ret;
}

int hub_reserve(Hub *h, const char *key, const char *value, unsigned ttl_s, char **ret_existing)
{
        char ttl[16];
        snprintf(ttl, sizeof ttl, "%u", ttl_s);
        const char *set[] = {"SET", key, value, "NX", "EX", ttl};
        const char *get[] = {"GET", key};
        int ret;
        pthread_mutex_lock(&h->ctl_lock);
        for (int attempt = 0;; attempt++) {
                _cleanup_reply_ redisReply *r = ctl_command_argv(h, (int)ELEMENTSOF(set), set, NULL);
                if (!r || r->type == REDIS_REPLY_ERROR) {
                        ret = -EAGAIN;
                        break;
                }
                if (r->type == REDIS_REPLY_STATUS) {
                        ret = 0;
                        break;
                }
                _cleanup_reply_ redisReply *g = ctl_command_argv(h, 2, get, NULL);
                if (!g || g->type == REDIS_REPLY_ERROR) {
                        ret = -EAGAIN;
                        break;
                }
                if (g->type == REDIS_REPLY_STRING) {
                        *ret_existing = strndup(g->str, g->len);
                        ret = *ret_existing ? 1 : -ENOMEM;
                        break;
                }
                if (attempt > 3) { /* expired between SET and GET, again and again */
                        ret = -EAGAIN;
                        break;
                }
        }
        pthread_mutex_unlock(&h->ctl_lock);
        return ret;
}

/* A token bucket per client, atomic in Redis: KEYS[1] the bucket; ARGV rate (tokens/s), burst.
 * Returns {1, 0} when a token was taken, else {0, milliseconds until one is there}. The clock is
 * Redis's own, so every API process agrees. */
static const char RATE_SCRIPT[] =
        "local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
        "local tokens, ts = tonumber(b[1]) or burst, tonumber(b[2]) or now\n"
        "tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)\n"
        "local ok, wait = 0, 0\n"
        "if tokens >= 1 then tokens = tokens - 1; ok = 1\n"
        "else wait = math.ceil((1 - tokens) * 1000 / rate) end\n"
        "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)\n"
        "redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)\n"
        "return {ok, wait}\n";

int hub_take_token(Hub *h, const char *client, uint64_t rate_per_s, uint64_t burst, uint64_t *ret_wait_ms)
{
        char key[160], rate[24], b[24];
        snprintf(key, sizeof key, "sentinel:rate:%s", client);
        snprintf(rate, sizeof rate, "%" PRIu64, rate_per_s);
        snprintf(b, sizeof b, "%" PRIu64, burst);
        const char *argv[] = {"EVAL", RATE_SCRIPT, "1", key, rate, b};
        int ret = -EAGAIN;
        pthread_mutex_lock(&h->ctl_lock);
        _cleanup_reply_ redisReply *r = ctl_command_argv(h, (int)ELEMENTSOF(argv), argv, NULL);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
            r->element[1]->type == REDIS_REPLY_INTEGER) {
                ret = r->element[0]->integer == 1 ? 1 : 0;
                *ret_wait_ms = (uint64_t)MAX(r->element[1]->integer, 0);
        } else if (r && r->type == REDIS_REPLY_ERROR)
                log_warning("Redis: rate limit script: %s", r->str);
        pthread_mutex_unlock(&h->ctl_lock);
        return ret;
}

void hub_release(Hub *h, const char *key)
{
        const char *argv[] = {"DEL", key};
        pthread_mutex_lock(&h->ctl_lock);
        redisReply *r = ctl_command_argv(h, 2, argv, NULL);
        if (r)
                freeReplyObject(r);
        pthread_mutex_unlock(&h->ctl_lock);
}

HubWatch *hub_watch(Hub *h, const Uuid *id, HubEventFn fn, void *userdata)
{
        HubWatch *w = calloc(1, sizeof *w);
        if (!w)
                return NULL;
        w->fn = fn;
        w->userdata = userdata;
        pthread_mutex_lock(&h->lock);
        Stream *s;
        for (s = h->streams; s; s = s->next)
                if (memcmp(&s->id, id, sizeof *id) == 0)
                        break;
        if (!s) {
                s = calloc(1, sizeof *s);
                if (!s) {
                        pthread_mutex_unlock(&h->lock);
                        free(w);
                        return NULL;
                }
                s->id = *id;
                memcpy(s->key, EVENTS_KEY_PREFIX, sizeof EVENTS_KEY_PREFIX - 1);
                uuid_format(id, s->key + sizeof EVENTS_KEY_PREFIX - 1);
                strcpy(s->last, "0-0");
                s->dirty = true; /* its past first */
                s->next = h->streams;
                h->streams = s;
        } else
                w->needs_replay = strcmp(s->last, "0-0") != 0;
        w->stream = s;
        w->next = s->watches;
        s->watches = w;
        pthread_mutex_unlock(&h->lock);
        wake_reader(h);
        return w;
}

void hub_unwatch(Hub *h, HubWatch *w)
{
        if (!w)
                return;
        pthread_mutex_lock(&h->lock);
        Stream *s = w->stream;
        for (HubWatch **p = &s->watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        if (!s->watches)
                for (Stream **p = &h->streams; *p; p = &(*p)->next)
                        if (*p == s) {
                                *p = s->next;
                                free(s);
                                break;
                        }
        pthread_mutex_unlock(&h->lock);
        free(w);
}

/* An entry is [id, [field, value, ...]]. Finds the event text and whether it is the last one. */
static bool entry_event(const redisReply *e, const char **ret_id, const char **ret_json, size_t *ret_len, bool *ret_final)
{
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[1]->type != REDIS_REPLY_ARRAY)
                return false;
        const redisReply *f = e->element[1];
        *ret_id = e->element[0]->str;
        *ret_json = NULL;
        *ret_final = false;
        for (size_t i = 0; i + 1 < f->elements; i += 2) {
                const redisReply *k = f->element[i], *v = f->element[i + 1];
                if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                        continue;
                if (strcmp(k->str, EVENTS_FIELD) == 0) {
                        *ret_json = v->str;
                        *ret_len = v->len;
                } else if (strcmp(k->str, "final") == 0)
                        *ret_final = true;
        }
        return *ret_json != NULL;
}

static Stream *find_stream(Hub *h, const char *key, size_t len)
{
        for (Stream *s = h->streams; s; s = s->next)
                if (strlen(s->key) == len && memcmp(s->key, key, len) == 0)
                        return s;
        return NULL;
}

/* Delivers an XREAD/XRANGE entry list to a stream's watchers (all, or only `only`). */
static void deliver(Stream *s, const redisReply *entries, HubWatch *only, bool advance)
{
        for (size_t j = 0; j < entries->elements; j++) {
                const char *eid, *json;
                size_t len = 0;
                bool final;
                if (!entry_event(entries->element[j], &eid, &json, &len, &final))
                        continue;
                if (advance)
                        snprintf(s->last, sizeof s->last, "%s", eid);
                for (HubWatch *w = s->watches; w; w = w->next)
                        if (only ? w == only : !w->needs_replay)
                                w->fn(w->userdata, json, len, final);
        }
}

/* Watches that joined a stream already being read get its past entries (up to s->last) first. */
static void replay_new_watches(Hub *h, redisContext *c)
{
        for (;;) {
                pthread_mutex_lock(&h->lock);
                Stream *s = NULL;
                HubWatch *w = NULL;
                for (Stream *t = h->streams; t && !w; t = t->next)
                        for (HubWatch *x = t->watches; x; x = x->next)
                                if (x->needs_replay) {
                                        s = t, w = x;
                                        break;
                                }
                if (!w) {
                        pthread_mutex_unlock(&h->lock);
                        return;
                }
                char key[sizeof s->key], last[ENTRY_ID_MAX];
                memcpy(key, s->key, sizeof key);
                memcpy(last, s->last, sizeof last);
                pthread_mutex_unlock(&h->lock);

                const char *argv[] = {"XRANGE", key, "-", last};
                _cleanup_reply_ redisReply *r = redisCommandArgv(c, 4, argv, NULL);
                pthread_mutex_lock(&h->lock);
                /* The watch may have gone meanwhile: look it up again. */
                Stream *s2 = find_stream(h, key, strlen(key));
                HubWatch *w2 = NULL;
                for (HubWatch *x = s2 ? s2->watches : NULL; x; x = x->next)
                        if (x == w)
                                w2 = x;
                if (w2) {
                        if (r && r->type == REDIS_REPLY_ARRAY)
                                deliver(s2, r, w2, false);
                        w2->needs_replay = false;
                }
                pthread_mutex_unlock(&h->lock);
                if (!r)
                        return;
        }
}

static void mark_all_dirty(Hub *h)
{
        pthread_mutex_lock(&h->lock);
        for (Stream *s = h->streams; s; s = s->next)
                s->dirty = true;
        pthread_mutex_unlock(&h->lock);
}

/* Reads every dirty stream after its last entry, one pipelined XRANGE each, and delivers what
 * came. Returns -EIO when the connection broke. */
static int read_dirty(Hub *h, redisContext *c)
{
        pthread_mutex_lock(&h->lock);
        size_t n = 0;
        for (Stream *s = h->streams; s; s = s->next)
                n += s->dirty;
        if (n == 0) {
                pthread_mutex_unlock(&h->lock);
                return 0;
        }
        /* Keys and positions are copied: a stream may go away while we read. */
        typedef struct {
                char key[sizeof ((Stream *)NULL)->key];
                char start[ENTRY_ID_MAX + 1];
        } Pending;
        _cleanup_free_ Pending *p = calloc(n, sizeof *p);
        if (!p) {
                pthread_mutex_unlock(&h->lock);
                return 0; /* still dirty: next time */
        }
        size_t k = 0;
        for (Stream *s = h->streams; s; s = s->next) {
                if (!s->dirty)
                        continue;
                s->dirty = false;
                memcpy(p[k].key, s->key, sizeof p[k].key);
                /* "(" makes the start exclusive: only entries after the last one delivered. */
                if (strcmp(s->last, "0-0") == 0)
                        strcpy(p[k].start, "-");
                else
                        snprintf(p[k].start, sizeof p[k].start, "(%s", s->last);
                k++;
        }
        pthread_mutex_unlock(&h->lock);

        char count[16];
        snprintf(count, sizeof count, "%d", READ_COUNT);
        for (size_t i = 0; i < n; i++) {
                const char *argv[] = {"XRANGE", p[i].key, p[i].start, "+", "COUNT", count};
                if (redisAppendCommandArgv(c, (int)ELEMENTSOF(argv), argv, NULL) != REDIS_OK)
                        return -EIO;
        }
        for (size_t i = 0; i < n; i++) {
                redisReply *r = NULL;
                if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
                        return -EIO;
                pthread_mutex_lock(&h->lock);
                Stream *s = find_stream(h, p[i].key, strlen(p[i].key));
                if (s && r->type == REDIS_REPLY_ARRAY) {
                        deliver(s, r, NULL, true);
                        if (r->elements >= READ_COUNT)
                                s->dirty = true; /* more to read */
                }
                pthread_mutex_unlock(&h->lock);
                freeReplyObject(r);
        }
        return 0;
}

/* Where the notification stream ends now ("0-0" when it is empty). */
static int notify_position(redisContext *c, char *ret, size_t len)
{
        const char *argv[] = {"XREVRANGE", NOTIFY_KEY, "+", "-", "COUNT", "1"};
        _cleanup_reply_ redisReply *r = redisCommandArgv(c, (int)ELEMENTSOF(argv), argv, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY)
                return -EIO;
        const redisReply *e = r->elements > 0 ? r->element[0] : NULL;
        if (e && e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[0]->type == REDIS_REPLY_STRING)
                snprintf(ret, len, "%s", e->element[0]->str);
        else
                snprintf(ret, len, "0-0");
        return 0;
}

/* Marks the streams a batch of notifications names; remembers where the batch ended. */
static void on_notifications(Hub *h, const redisReply *entries)
{
        pthread_mutex_lock(&h->lock);
        for (size_t j = 0; j < entries->elements; j++) {
                const redisReply *e = entries->element[j];
                if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
                    e->element[1]->type != REDIS_REPLY_ARRAY)
                        continue;
                snprintf(h->notify_last, sizeof h->notify_last, "%s", e->element[0]->str);
                const redisReply *f = e->element[1];
                for (size_t i = 0; i + 1 < f->elements; i += 2) {
                        const redisReply *k = f->element[i], *v = f->element[i + 1];
                        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
                            strcmp(k->str, NOTIFY_FIELD) != 0 || v->len != UUID_STRING_LEN)
                                continue;
                        char key[sizeof ((Stream *)NULL)->key];
                        int kl = snprintf(key, sizeof key, EVENTS_KEY_PREFIX "%s", v->str);
                        Stream *s = find_stream(h, key, (size_t)kl);
                        if (s)
                                s->dirty = true;
                }
        }
        pthread_mutex_unlock(&h->lock);
}

/* The reader: one XREAD over two streams, this hub's wake-ups and the notifications, whatever
 * the number of watched jobs; then an XRANGE of each watched stream that was named. A sweep
 * every SWEEP_MS re-reads every watched stream, for notifications trimmed away or never sent. */
static void *hub_main(void *arg)
{
        Hub *h = arg;
        redisContext *c = NULL;

        for (;;) {
                pthread_mutex_lock(&h->lock);
                bool stop = h->stop;
                pthread_mutex_unlock(&h->lock);
                if (stop)
                        break;
                if (!c) {
                        char err[256];
                        if (redis_util_connect(h->cfg->redis_url, REDIS_TIMEOUT_MS, &c, err, sizeof err) < 0) {
                                atomic_store(&h->connected, false);
                                log_debug("hub: %s", err);
                                struct timespec ts = {0, RECONNECT_MS * 1000000L};
                                nanosleep(&ts, NULL);
                                continue;
                        }
                        /* Concrete positions in both streams, so that nothing added between two
                         * reads is missed ("$" would only see entries added during a read). */
                        const char *xadd[] = {"XADD", h->wake_key, "MAXLEN", "~", "64", "*", "w", "0"};
                        _cleanup_reply_ redisReply *x = redisCommandArgv(c, (int)ELEMENTSOF(xadd), xadd, NULL);
                        if (!x || x->type != REDIS_REPLY_STRING ||
                            notify_position(c, h->notify_last, sizeof h->notify_last) < 0) {
                                redisFree(c);
                                c = NULL;
                                continue;
                        }
                        snprintf(h->wake_last, sizeof h->wake_last, "%s", x->str);
                        const char *expire[] = {"EXPIRE", h->wake_key, "86400"};
                        _cleanup_reply_ redisReply *e = redisCommandArgv(c, 3, expire, NULL);
                        atomic_store(&h->connected, true);
                        mark_all_dirty(h); /* whatever happened while we were away */
                        h->sweep_ms = now_monotonic_ms() + SWEEP_MS;
                }
                replay_new_watches(h, c);
                if (now_monotonic_ms() >= h->sweep_ms) {
                        mark_all_dirty(h);
                        h->sweep_ms = now_monotonic_ms() + SWEEP_MS;
                }
                if (read_dirty(h, c) < 0) {
                        log_warning("hub: Redis connection lost: %s", c->errstr);
                        redisFree(c);
                        c = NULL;
                        atomic_store(&h->connected, false);
                        continue;
                }

                char count[16], block[16];
                snprintf(count, sizeof count, "%d", READ_COUNT);
                snprintf(block, sizeof block, "%d", READ_BLOCK_MS);
                const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", h->wake_key, NOTIFY_KEY,
                        h->wake_last, h->notify_last};
                _cleanup_reply_ redisReply *r = redisCommandArgv(c, (int)ELEMENTSOF(argv), argv, NULL);
                if (!r) {
                        log_warning("hub: Redis connection lost: %s", c->errstr);
                        redisFree(c);
                        c = NULL;
                        atomic_store(&h->connected, false);
                        continue;
                }
                if (r->type != REDIS_REPLY_ARRAY)
                        continue; /* nil: the block timed out */
                for (size_t j = 0; j < r->elements; j++) {
                        const redisReply *sr = r->element[j];
                        if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2 ||
                            sr->element[0]->type != REDIS_REPLY_STRING || sr->element[1]->type != REDIS_REPLY_ARRAY)
                                continue;
                        const redisReply *e = sr->element[1];
                        if (strcmp(sr->element[0]->str, NOTIFY_KEY) == 0) {
                                on_notifications(h, e);
                                continue;
                        }
                        if (e->elements > 0) { /* the wake stream: only its position matters */
                                const redisReply *last = e->element[e->elements - 1];
                                if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
                                    last->element[0]->type == REDIS_REPLY_STRING)
                                        snprintf(h->wake_last, sizeof h->wake_last, "%s", last->element[0]->str);
                        }
                }
        }
        if (c)
                redisFree(c);
        return NULL;
}

int hub_start(const Config *cfg, Hub **ret)
{
        Hub *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->cfg = cfg;
        pthread_mutex_init(&h->lock, NULL);
        pthread_mutex_init(&h->ctl_lock, NULL);
        Uuid me;
        uuid7_new(&me);
        char s[UUID_STRING_LEN + 1];
        uuid_format(&me, s);
        snprintf(h->wake_key, sizeof h->wake_key, "sentinel:wake:%s", s);
        strcpy(h->wake_last, "$");
        int r = pthread_create(&h->thread, NULL, hub_main, h);
        if (r != 0) {
                free(h);
                return -r;
        }
        *ret = h;
        return 0;
}

Hub *hub_stop(Hub *h)
{
        if (!h)
                return NULL;
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_mutex_unlock(&h->lock);
        wake_reader(h);
        pthread_join(h->thread, NULL);
        /* Watches still registered belong to requests being torn down by their owners. */
        while (h->streams) {
                Stream *s = h->streams;
                h->streams = s->next;
                while (s->watches) {
                        HubWatch *w = s->watches;
                        s->watches = w->next;
                        free(w);
                }
                free(s);
        }
        if (h->ctl) {
                const char *argv[] = {"DEL", h->wake_key};
                redisReply *r = redisCommandArgv(h->ctl, 2, argv, NULL);
                if (r)
                        freeReplyObject(r);
                redisFree(h->ctl);
        }
        pthread_mutex_destroy(&h->lock);
        pthread_mutex_destroy(&h->ctl_lock);
        free(h);
        return NULL;
}
