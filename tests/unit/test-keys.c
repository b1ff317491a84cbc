/* SPDX-License-Identifier: Apache-2.0 */
/* api/keys.c: the key format, its hash, the headers that carry it, and the key set. */
#include <errno.h>
#include <string.h>

#include "keys.h"
#include "test-util.h"

static void test_generate(void)
{
        char a[API_KEY_LEN + 1], b[API_KEY_LEN + 1];
        CHECK(api_key_generate(a) == 0 && api_key_generate(b) == 0);
        CHECK(strlen(a) == API_KEY_LEN, "%zu", strlen(a));
        CHECK(strncmp(a, API_KEY_PREFIX, 4) == 0, "%s", a);
        CHECK(strcmp(a, b) != 0, "two keys alike: %s", a);
        CHECK(strspn(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == API_KEY_LEN - 4,
                "%s", a);
}

static void test_hash(void)
{
        char h[65];
        api_key_hash("abc", 3, h); /* FIPS 180-2's example */
        CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "%s", h);
}

static void test_headers(void)
{
        const char *k = NULL;
        size_t n = 0;
        CHECK(api_key_from_headers("Bearer snk_abc", NULL, &k, &n) && n == 7 && strncmp(k, "snk_abc", n) == 0);
        CHECK(api_key_from_headers("bearer   snk_abc  ", NULL, &k, &n) && n == 7);
        CHECK(api_key_from_headers(NULL, "snk_xyz", &k, &n) && n == 7 && strncmp(k, "snk_xyz", 7) == 0);
        /* Authorization wins over X-Auth-Token; another scheme counts as none. */
        CHECK(api_key_from_headers("Bearer one", "two", &k, &n) && strncmp(k, "one", n) == 0);
        CHECK(api_key_from_headers("Basic dXNlcjpwdw==", "two", &k, &n) && strncmp(k, "two", n) == 0);
        CHECK(!api_key_from_headers("Basic dXNlcjpwdw==", NULL, &k, &n));
        CHECK(!api_key_from_headers("Bearer", NULL, &k, &n));
        CHECK(!api_key_from_headers("Bearer ", NULL, &k, &n));
        CHECK(!api_key_from_headers("Bearer a b", NULL, &k, &n));
        CHECK(!api_key_from_headers("Bearersnk_abc", NULL, &k, &n));
        CHECK(!api_key_from_headers(NULL, "", &k, &n));
        CHECK(!api_key_from_headers(NULL, NULL, &k, &n));
}

static void test_set(void)
{
        char h1[65], h2[65], h3[65];
        api_key_hash("one", 3, h1);
        api_key_hash("two", 3, h2);
        api_key_hash("three", 5, h3);
        const char *hashes[] = {h1, h2};
        const char *ids[] = {"id-one", "id-two"};
        KeySet *s = NULL;
        CHECK(key_set_new(hashes, ids, 2, &s) == 0 && key_set_size(s) == 2);
        const char *id = key_set_lookup(s, h1);
        CHECK(id && strcmp(id, "id-one") == 0);
        id = key_set_lookup(s, h2);
        CHECK(id && strcmp(id, "id-two") == 0);
        CHECK(key_set_lookup(s, h3) == NULL);
        s = key_set_free(s);

        KeySet *empty = NULL;
        CHECK(key_set_new(NULL, NULL, 0, &empty) == 0 && key_set_size(empty) == 0 && !key_set_lookup(empty, h1));
        key_set_free(empty);
        CHECK(key_set_size(NULL) == 0 && key_set_lookup(NULL, h1) == NULL);

        const char *bad[] = {"ABC"};
        const char *bad_ids[] = {"x"};
        KeySet *b = NULL;
        CHECK(key_set_new(bad, bad_ids, 1, &b) == -EINVAL && b == NULL);
        const char *upper[] = {"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"};
        CHECK(key_set_new(upper, bad_ids, 1, &b) == -EINVAL);
}

int main(void)
{
        test_generate();
        test_hash();
        test_headers();
        test_set();
        return test_summary();
}
