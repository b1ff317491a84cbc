/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded in-memory cache of final submissions, as the JSON text GET answers with.
 *
 * A final row never changes, so a cached copy is never stale: GET /api/v1/submissions/{id} of a
 * finished job is answered without PostgreSQL. Bounded by entries and by bytes (entries larger
 * than a tenth of the budget are not kept); the oldest insertions go first. Thread-safe. */
#pragma once

#include <stddef.h>

#include "uuid.h"

typedef struct ResultCache ResultCache;

/* max_entries 0 disables the cache (every call then does nothing). */
int result_cache_new(size_t max_entries, size_t max_bytes, ResultCache **ret);
ResultCache *result_cache_free(ResultCache *c);

/* Keeps a copy of json (len bytes) for id; a second put of the same id is ignored. */
void result_cache_put(ResultCache *c, const Uuid *id, const char *json, size_t len);
/* A malloc'ed NUL-terminated copy of the cached JSON, or NULL (not cached, or out of memory). */
char *result_cache_get(ResultCache *c, const Uuid *id);

size_t result_cache_entries(const ResultCache *c);
size_t result_cache_bytes(const ResultCache *c);
