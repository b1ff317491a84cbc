/* SPDX-License-Identifier: Apache-2.0 */
#include "keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>


typedef struct KeyEntry {
        char hash[65];
        char id[API_KEY_ID_MAX + 1];
} KeyEntry;

struct KeySet {
        size_t n;
        KeyEntry v[];
};

int api_key_generate(char out[API_KEY_LEN + 1])
{
        static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        unsigned char raw[33]; /* 264 bits: 44 characters, of which 43 are kept (256 bits and more) */
        size_t got = 0;
        while (got < sizeof raw) {
                ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        char *p = stpcpy(out, API_KEY_PREFIX);
        for (size_t i = 0; i + 3 <= sizeof raw; i += 3) {
                unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
                for (int k = 3; k >= 0; k--)
                        if (p - out < API_KEY_LEN)
                                *p++ = b64url[(v >> (6 * k)) & 63];
        }
        *p = '\0';
        return 0;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < 32; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
}

void api_key_hash(const char *key, size_t len, char out[65])
{
        sha256_hex(key, len, out);
}

static const char *skip_spaces(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

static bool token(const char *s, const char **ret, size_t *ret_len)
{
        s = skip_spaces(s);
        size_t n = strcspn(s, " \t");
        if (n == 0 || *skip_spaces(s + n) != '\0')
                return false;
        *ret = s;
        *ret_len = n;
        return true;
}

bool api_key_from_headers(const char *authorization, const char *x_auth_token, const char **ret,
        size_t *ret_len)
{
        if (authorization) {
                const char *s = skip_spaces(authorization);
                if (strncasecmp(s, "Bearer", 6) == 0 && (s[6] == ' ' || s[6] == '\t') && token(s + 6, ret, ret_len))
                        return true;
        }
        return x_auth_token && token(x_auth_token, ret, ret_len);
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const KeyEntry *)a)->hash, ((const KeyEntry *)b)->hash);
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != 64)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int key_set_new(const char *const *hashes, const char *const *ids, size_t n, KeySet **ret)
{
        KeySet *s = malloc(sizeof *s + n * sizeof s->v[0]);
        if (!s)
                return -ENOMEM;
        s->n = n;
        for (size_t i = 0; i < n; i++) {
                if (!is_hex64(hashes[i]) || strlen(ids[i]) > API_KEY_ID_MAX) {
                        free(s);
                        return -EINVAL;
                }
                memcpy(s->v[i].hash, hashes[i], 65);
                strcpy(s->v[i].id, ids[i]);
        }
        qsort(s->v, n, sizeof s->v[0], entry_cmp);
        *ret = s;
        return 0;
}

KeySet *key_set_free(KeySet *s)
{
        free(s);
        return NULL;
}

size_t key_set_size(const KeySet *s)
{
        return s ? s->n : 0;
}

const char *key_set_lookup(const KeySet *s, const char hash[65])
{
        if (!s)
                return NULL;
        KeyEntry k;
        memcpy(k.hash, hash, 65);
        const KeyEntry *e = bsearch(&k, s->v, s->n, sizeof s->v[0], entry_cmp);
        return e ? e->id : NULL;
}
