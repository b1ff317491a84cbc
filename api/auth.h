/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication: the active API keys, re-read from PostgreSQL every SENTINEL_AUTH_REFRESH_MS by a
 * thread of their own, and the check of a request's key against them. While no key is active the
 * API is open; once one is, every /api route requires one (docs/OPERATIONS.md). */
#pragma once

#include "config.h"
#include "keys.h"
#include "store.h"

typedef struct Auth Auth;

typedef enum AuthResult {
        AUTH_OPEN,     /* no key is active: no key needed */
        AUTH_OK,       /* a valid key; its id is in ret_id */
        AUTH_MISSING,  /* keys are active and the request presented none */
        AUTH_REJECTED, /* the key presented is unknown or revoked */
        AUTH_UNKNOWN,  /* the keys could never be read (PostgreSQL unreachable since the start) */
} AuthResult;

/* Reads the keys once (a failure is not fatal: the thread keeps trying, and checks answer
 * AUTH_UNKNOWN meanwhile), then starts the refresh thread. */
int auth_start(const Config *cfg, Store *store, Auth **ret);
void auth_stop(Auth *a);

/* key may be NULL (none presented). ret_id gets the key's id on AUTH_OK. */
AuthResult auth_check(Auth *a, const char *key, size_t key_len, char ret_id[API_KEY_ID_MAX + 1]);
