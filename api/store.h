/* SPDX-License-Identifier: Apache-2.0 */
/* The API's PostgreSQL side: a small connection pool and the submission queries.
 *
 * Rows are rendered to JSON by PostgreSQL itself (json_build_object), so what a client reads is
 * exactly what was committed, with no second copy of the schema in C. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "keys.h"
#include "uuid.h"

typedef struct Store Store;

/* Errors: -EAGAIN when PostgreSQL is unreachable (the API answers 503 with Retry-After),
 * -ENOENT when no row matches, other negative errno for anything else. */

int store_new(const Config *cfg, Store **ret, char *errbuf, size_t errlen);
Store *store_free(Store *s);

/* Applies pending migrations and creates the coming months' partitions. */
int store_migrate(Store *s, char *errbuf, size_t errlen);
/* Creates partitions for this month and the next three (called at start and daily). */
int store_ensure_partitions(Store *s);

typedef struct SubmissionRow {
        const Uuid *id;
        const char *client;
        const char *language;
        const char *source;           /* NUL-free UTF-8 (validated) */
        const char *stdin_data;       /* may be NULL */
        const char *args_json;        /* JSON array text or NULL */
        const char *expected_output;  /* may be NULL */
        const char *limits_json;      /* JSON object text */
        uint64_t max_active;          /* the client's queued-plus-running cap; 0 = none */
} SubmissionRow;

/* Inserts the submission and its outbox row. Returns 0 (also when the row exists already: a
 * retried insert), -EDQUOT when the client has max_active jobs queued or running, or an error as
 * above. */
int store_insert(Store *s, const SubmissionRow *row);

/* The submission as the API returns it (JSON text, caller frees); *ret_final (may be NULL):
 * whether its status is final (a final row never changes). */
int store_get_json(Store *s, const Uuid *id, char **ret_json, bool *ret_final);
/* Its status only ("QUEUED", ..., caller frees). */
int store_get_status(Store *s, const Uuid *id, char **ret_status);

/* History, newest first: {"submissions":[...], "next_cursor": id or null}. `before` (may be NULL)
 * is the cursor from the previous page; `client` (may be NULL: everyone's) keeps one client's. */
int store_list_json(Store *s, unsigned limit, const Uuid *before, const char *client, char **ret_json);

/* API keys (api/keys.h). The active ones as a set; create (-EEXIST: an active key has that
 * name); revoke by name or id (-ENOENT: no such active key); a listing, one key a line. */
int store_active_keys(Store *s, KeySet **ret);
int store_key_create(Store *s, const char *name, const char *hash, const char *prefix, char **ret_id);
int store_key_revoke(Store *s, const char *name_or_id);
int store_key_list(Store *s, char **ret_text);

/* SELECT 1 on a pooled connection. */
int store_ping(Store *s);

/* The outbox (table sentinel_outbox: one row per submission whose publish RabbitMQ has not
 * confirmed, written by store_insert). Reads its rows older than older_ms, oldest first, at most
 * `max`: returns the ids of those whose submission is still QUEUED, and deletes the others
 * (delivered already). *ret_ids is an array of Uuid (caller frees). */
int store_unpublished(Store *s, uint64_t older_ms, unsigned max, Uuid **ret_ids, size_t *ret_n);
/* Marks submissions confirmed published: deletes their outbox rows. */
int store_mark_published(Store *s, const Uuid *ids, size_t n);

/* The instant a UUIDv7 names, as the "created_at" partition key parameter (milliseconds). */
uint64_t store_created_ms(const Uuid *id);
