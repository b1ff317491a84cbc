/* SPDX-License-Identifier: Apache-2.0 */
/* api/result-cache.c: hits, misses, bounds by entries and bytes, and concurrent use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result-cache.h"
#include "test-util.h"

static Uuid id_of(unsigned n)
{
        Uuid u = {};
        uuid7_new(&u);
        memcpy(u.bytes + 12, &n, sizeof n); /* distinct whatever the clock does */
        return u;
}

static void test_basic(void)
{
        ResultCache *c = NULL;
        CHECK(result_cache_new(4, 1 << 20, &c) == 0);
        Uuid a = id_of(1), b = id_of(2);
        CHECK(result_cache_get(c, &a) == NULL);
        result_cache_put(c, &a, "{\"a\":1}", 7);
        char *j = result_cache_get(c, &a);
        CHECK(j && strcmp(j, "{\"a\":1}") == 0, "%s", j ? j : "(null)");
        free(j);
        result_cache_put(c, &a, "{\"a\":2}", 7); /* ignored: final rows do not change */
        j = result_cache_get(c, &a);
        CHECK(j && strcmp(j, "{\"a\":1}") == 0);
        free(j);
        CHECK(result_cache_get(c, &b) == NULL);
        CHECK(result_cache_entries(c) == 1 && result_cache_bytes(c) == 7);
        result_cache_free(c);
}

static void test_entry_bound(void)
{
        ResultCache *c = NULL;
        CHECK(result_cache_new(3, 1 << 20, &c) == 0);
        Uuid ids[5];
        for (unsigned i = 0; i < 5; i++) {
                ids[i] = id_of(10 + i);
                char v[16];
                int n = snprintf(v, sizeof v, "%u", i);
                result_cache_put(c, &ids[i], v, (size_t)n);
        }
        CHECK(result_cache_entries(c) == 3, "%zu", result_cache_entries(c));
        for (unsigned i = 0; i < 5; i++) {
                char *j = result_cache_get(c, &ids[i]);
                CHECK((j != NULL) == (i >= 2), "entry %u", i); /* the oldest went first */
                free(j);
        }
        result_cache_free(c);
}

static void test_byte_bound(void)
{
        ResultCache *c = NULL;
        CHECK(result_cache_new(100, 1000, &c) == 0);
        char big[101];
        memset(big, 'x', 100);
        big[100] = '\0';
        Uuid huge = id_of(99);
        char too[200];
        memset(too, 'y', sizeof too);
        result_cache_put(c, &huge, too, sizeof too); /* over a tenth of the budget: not kept */
        CHECK(result_cache_get(c, &huge) == NULL);
        Uuid ids[20];
        for (unsigned i = 0; i < 20; i++) {
                ids[i] = id_of(100 + i);
                result_cache_put(c, &ids[i], big, 100);
                CHECK(result_cache_bytes(c) <= 1000, "%zu bytes", result_cache_bytes(c));
        }
        CHECK(result_cache_entries(c) == 10, "%zu", result_cache_entries(c));
        char *j = result_cache_get(c, &ids[19]);
        CHECK(j && strlen(j) == 100);
        free(j);
        CHECK(result_cache_get(c, &ids[0]) == NULL);
        result_cache_free(c);
}

static void test_disabled(void)
{
        ResultCache *c = NULL;
        CHECK(result_cache_new(0, 1000, &c) == 0);
        Uuid a = id_of(7);
        result_cache_put(c, &a, "x", 1);
        CHECK(result_cache_get(c, &a) == NULL && result_cache_entries(c) == 0);
        result_cache_free(c);
        CHECK(result_cache_get(NULL, &a) == NULL);
}

static ResultCache *shared;

static void *hammer(void *arg)
{
        unsigned base = (unsigned)(uintptr_t)arg * 100000;
        for (unsigned i = 0; i < 20000; i++) {
                Uuid u = id_of(base + i % 500);
                result_cache_put(shared, &u, "{\"status\":\"ACCEPTED\"}", 21);
                free(result_cache_get(shared, &u));
        }
        return NULL;
}

static void test_threads(void)
{
        CHECK(result_cache_new(256, 1 << 20, &shared) == 0);
        pthread_t t[4];
        for (uintptr_t i = 0; i < 4; i++)
                pthread_create(&t[i], NULL, hammer, (void *)i);
        for (int i = 0; i < 4; i++)
                pthread_join(t[i], NULL);
        CHECK(result_cache_entries(shared) <= 256 && result_cache_bytes(shared) == result_cache_entries(shared) * 21);
        result_cache_free(shared);
}

int main(void)
{
        test_basic();
        test_entry_bound();
        test_byte_bound();
        test_disabled();
        test_threads();
        return test_summary();
}
