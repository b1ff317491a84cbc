/* SPDX-License-Identifier: Apache-2.0 */
/* PostgreSQL helpers: connecting, cleanup attributes, and the migration runner. */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>

#include "cleanup.h"

static inline void pq_finishp(PGconn **c)
{
        if (*c)
                PQfinish(*c);
}
static inline void pq_clearp(PGresult **r)
{
        if (*r)
                PQclear(*r);
}
#define _cleanup_pgconn_ _cleanup_(pq_finishp)
#define _cleanup_pgresult_ _cleanup_(pq_clearp)

/* Opens a connection (libpq URI or key=value string) with a connect timeout of timeout_s seconds.
 * Returns 0 or -ECONNREFUSED with libpq's message (first line) in errbuf. */
int pg_connect(const char *url, int timeout_s, PGconn **ret, char *errbuf, size_t errlen);

/* PQexecParams for a hot statement outside a transaction block: runs it as a prepared statement
 * (prepared on first use per connection), so it is planned once per connection rather than on
 * every execution. Text parameters and results, like PQexecParams(conn, sql, n, NULL, params,
 * NULL, NULL, 0). */
PGresult *pg_exec_prepared(PGconn *conn, const char *sql, int n_params, const char *const *params);

/* Applies every migrations/NNNN_*.sql in `dir` not yet recorded in schema_migrations, in name
 * order, each in its own transaction, under an advisory lock (concurrent starts are safe).
 * Returns the number applied, or -errno with a message in errbuf. */
int pg_migrate(PGconn *conn, const char *dir, char *errbuf, size_t errlen);

/* The migrations directory: SENTINEL_MIGRATIONS_DIR, else the installed one, else the source tree's. */
const char *pg_migrations_dir(const char *configured);
