/* SPDX-License-Identifier: Apache-2.0 */
#include "result-cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Entry {
        Uuid id;
        struct Entry *next; /* in its bucket */
        size_t len;
        char json[];
} Entry;

struct ResultCache {
        pthread_mutex_t lock;
        size_t max_entries, max_bytes;
        size_t n, bytes;
        Entry **buckets; /* n_buckets, a power of two */
        size_t n_buckets;
        Entry **ring;    /* insertion order: ring[head] is the oldest slot */
        size_t head;
};

static size_t bucket_of(const ResultCache *c, const Uuid *id)
{
        /* UUIDv7: the last 8 bytes are random. */
        uint64_t h;
        memcpy(&h, id->bytes + 8, sizeof h);
        return (size_t)(h ^ (h >> 29)) & (c->n_buckets - 1);
}

int result_cache_new(size_t max_entries, size_t max_bytes, ResultCache **ret)
{
        ResultCache *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        pthread_mutex_init(&c->lock, NULL);
        c->max_entries = max_entries;
        c->max_bytes = max_bytes;
        if (max_entries > 0) {
                c->n_buckets = 1;
                while (c->n_buckets < max_entries)
                        c->n_buckets <<= 1;
                c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
                c->ring = calloc(max_entries, sizeof *c->ring);
                if (!c->buckets || !c->ring) {
                        result_cache_free(c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

ResultCache *result_cache_free(ResultCache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; c->ring && i < c->max_entries; i++)
                free(c->ring[i]);
        free(c->ring);
        free(c->buckets);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

static Entry **find(ResultCache *c, const Uuid *id)
{
        Entry **p = &c->buckets[bucket_of(c, id)];
        while (*p && memcmp((*p)->id.bytes, id->bytes, sizeof id->bytes) != 0)
                p = &(*p)->next;
        return p;
}

/* Drops the entry in the oldest ring slot (if any) and advances the ring. */
static void evict_oldest(ResultCache *c)
{
        Entry *e = c->ring[c->head];
        if (e) {
                Entry **p = find(c, &e->id);
                *p = e->next;
                c->n--;
                c->bytes -= e->len;
                free(e);
                c->ring[c->head] = NULL;
        }
        c->head = (c->head + 1) % c->max_entries;
}

void result_cache_put(ResultCache *c, const Uuid *id, const char *json, size_t len)
{
        if (!c || c->max_entries == 0 || len > c->max_bytes / 10)
                return;
        Entry *e = malloc(sizeof *e + len + 1);
        if (!e)
                return;
        e->id = *id;
        e->len = len;
        memcpy(e->json, json, len);
        e->json[len] = '\0';
        pthread_mutex_lock(&c->lock);
        if (*find(c, id)) {
                pthread_mutex_unlock(&c->lock);
                free(e);
                return;
        }
        /* Make room: the slot we write, and bytes. Each step frees the oldest slot. */
        evict_oldest(c);
        for (size_t i = 1; i < c->max_entries && c->bytes + len > c->max_bytes; i++)
                evict_oldest(c);
        size_t slot = (c->head + c->max_entries - 1) % c->max_entries;
        /* The slot just freed is the one before head: the newest position. */
        c->ring[slot] = e;
        Entry **p = &c->buckets[bucket_of(c, id)];
        e->next = *p;
        *p = e;
        c->n++;
        c->bytes += len;
        pthread_mutex_unlock(&c->lock);
}

char *result_cache_get(ResultCache *c, const Uuid *id)
{
        if (!c || c->max_entries == 0)
                return NULL;
        char *copy = NULL;
        pthread_mutex_lock(&c->lock);
        Entry *e = *find(c, id);
        if (e) {
                copy = malloc(e->len + 1);
                if (copy)
                        memcpy(copy, e->json, e->len + 1);
        }
        pthread_mutex_unlock(&c->lock);
        return copy;
}

size_t result_cache_entries(const ResultCache *c)
{
        return c ? c->n : 0;
}

size_t result_cache_bytes(const ResultCache *c)
{
        return c ? c->bytes : 0;
}
