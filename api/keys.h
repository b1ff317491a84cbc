/* SPDX-License-Identifier: Apache-2.0 */
/* API keys: their format, their hash, the header that carries them, and the in-memory set the
 * API checks them against. No I/O here (api/auth.c loads the set from PostgreSQL).
 *
 * A key is "snk_" and 43 base64url characters (256 random bits). Only its SHA-256 is stored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define API_KEY_PREFIX "snk_"
#define API_KEY_LEN (4 + 43)
#define API_KEY_SHOWN 10 /* characters of a key kept in the clear (its prefix), for listings */
#define API_KEY_ID_MAX 36

/* A fresh key (getrandom). Returns 0 or -errno. */
int api_key_generate(char out[API_KEY_LEN + 1]);
/* Lower-case hex SHA-256 of len bytes (also what Idempotency-Key records hash). */
void sha256_hex(const void *data, size_t len, char out[65]);
/* The stored form of a key: sha256_hex of its bytes. */
void api_key_hash(const char *key, size_t len, char out[65]);

/* The key a request presents: "Authorization: Bearer <key>" (the scheme case-insensitive), else
 * Judge0's "X-Auth-Token: <key>". Either header may be NULL. Returns true and the key (pointing
 * into the header) when one is there; an Authorization header of another scheme counts as none. */
bool api_key_from_headers(const char *authorization, const char *x_auth_token, const char **ret,
        size_t *ret_len);

typedef struct KeySet KeySet;

/* A set of (hash, id) pairs: hashes as 64 hex characters. Returns 0 or -errno (-EINVAL: a hash
 * that is not 64 hex characters, or an id too long). */
int key_set_new(const char *const *hashes, const char *const *ids, size_t n, KeySet **ret);
KeySet *key_set_free(KeySet *s);
size_t key_set_size(const KeySet *s);
/* The id of the key whose hash is `hash`, or NULL. */
const char *key_set_lookup(const KeySet *s, const char hash[65]);
