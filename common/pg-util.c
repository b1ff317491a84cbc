/* SPDX-License-Identifier: Apache-2.0 */
/* PostgreSQL helpers: connecting, cleanup attributes, and the migration runner. */
#include "pg-util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sentinel-config.h"

/* Any number that is the same in every process that migrates: the lock is per database. */
#define MIGRATION_MAX_BYTES (4 << 20)

static void first_line(char *buf, size_t len, const char *what, const char *msg)
{
        size_t n = strcspn(msg ? msg : "", "\n");
        snprintf(buf, len, "%s%.*s", what, (int)MIN(n, 400), msg ? msg : "");
}

static void notice_to_log(void *arg, const char *message)
{
        /* NOTICEs ("relation ... already exists, skipping") are for humans at a psql prompt. */
        log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

int pg_connect(const char *url, int timeout_s, PGconn **ret, char *errbuf, size_t errlen)
{
        char timeout[16];
        snprintf(timeout, sizeof timeout, "%d", timeout_s > 0 ? timeout_s : 5);
        /* Prepared statements (pg_exec_prepared) keep one generic plan: a custom plan for every
         * execution would re-plan against every partition (~0.6 ms each, most of a job's
         * PostgreSQL time); the generic one prunes partitions when it runs. */
        const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
        const char *vals[] = {url, timeout, "sentinel", "-c plan_cache_mode=force_generic_plan", NULL};
        /* expand_dbname=1: the URL's own settings win over the defaults above. */
        _cleanup_pgconn_ PGconn *c = PQconnectdbParams(keys, vals, 1);
        if (!c) {
                snprintf(errbuf, errlen, "out of memory");
                return -ENOMEM;
        }
        if (PQstatus(c) != CONNECTION_OK) {
                first_line(errbuf, errlen, "", PQerrorMessage(c));
                return -ECONNREFUSED;
        }
        PQsetNoticeProcessor(c, notice_to_log, NULL);
        *ret = TAKE_PTR(c);
        return 0;
}

PGresult *pg_exec_prepared(PGconn *conn, const char *sql, int n_params, const char *const *params)
{
        /* The statement's name is a hash of its text: no registry, and a connection that lacks it
         * (new, or reset) answers 26000 once and gets it prepared. */
        uint64_t h = 1469598103934665603u;
        for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
                h = (h ^ *p) * 1099511628211u;
        char name[24];
        snprintf(name, sizeof name, "s%016" PRIx64, h);
        PGresult *res = PQexecPrepared(conn, name, n_params, params, NULL, NULL, 0);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) != PGRES_FATAL_ERROR || !state || strcmp(state, "26000") != 0)
                return res;
        PQclear(res);
        res = PQprepare(conn, name, sql, n_params, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return res;
        PQclear(res);
        return PQexecPrepared(conn, name, n_params, params, NULL, NULL, 0);
}

const char *pg_migrations_dir(const char *configured)
{
        if (configured && *configured)
                return configured;
        if (access(SENTINEL_MIGRATIONS_DIR, F_OK) == 0)
                return SENTINEL_MIGRATIONS_DIR;
        return SENTINEL_SOURCE_MIGRATIONS_DIR;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_migration_name(const char *n)
{
        size_t len = strlen(n);
        if (len < 9 || len > 128 || strcmp(n + len - 4, ".sql") != 0)
                return false;
        for (int i = 0; i < 4; i++)
                if (n[i] < '0' || n[i] > '9')
                        return false;
        return n[4] == '_';
}

static int read_file_at(int dirfd, const char *name, char **ret)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > MIGRATION_MAX_BYTES)
                return -EFBIG;
        _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t off = 0;
        while (off < (size_t)st.st_size) {
                ssize_t n = RETRY_EINTR(read(fd, buf + off, (size_t)st.st_size - off));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                off += (size_t)n;
        }
        buf[off] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int exec_ok(PGconn *c, const char *sql, char *errbuf, size_t errlen)
{
        _cleanup_pgresult_ PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                first_line(errbuf, errlen, "", PQerrorMessage(c));
                return -EIO;
        }
        return 0;
}

static void free_names(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

int pg_migrate(PGconn *conn, const char *dir, char *errbuf, size_t errlen)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                snprintf(errbuf, errlen, "migrations directory %s: %s", dir, strerror(errno));
                return -errno;
        }
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        DIR *d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return -errno;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_migration_name(de->d_name))
                        continue;
                char **grown = realloc(names, (n + 1) * sizeof *names);
                if (!grown || !(grown[n] = strdup(de->d_name))) {
                        names = grown ? grown : names;
                        closedir(d);
                        free_names(names, n);
                        return -ENOMEM;
                }
                names = grown;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_names);

        int r = exec_ok(conn, "SELECT pg_advisory_lock(1397050964)", errbuf, errlen);
        if (r < 0)
                goto out;
        r = exec_ok(conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                errbuf, errlen);
        int applied = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *params[] = {names[i]};
                _cleanup_pgresult_ PGresult *q = PQexecParams(conn,
                        "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
                if (PQresultStatus(q) != PGRES_TUPLES_OK) {
                        first_line(errbuf, errlen, "schema_migrations: ", PQerrorMessage(conn));
                        r = -EIO;
                        break;
                }
                if (PQntuples(q) > 0)
                        continue;
                _cleanup_free_ char *sql = NULL;
                r = read_file_at(dfd, names[i], &sql);
                if (r < 0) {
                        snprintf(errbuf, errlen, "%s: %s", names[i], strerror(-r));
                        break;
                }
                char prefix[160];
                snprintf(prefix, sizeof prefix, "%s: ", names[i]);
                if ((r = exec_ok(conn, "BEGIN", errbuf, errlen)) < 0)
                        break;
                _cleanup_pgresult_ PGresult *m = PQexec(conn, sql);
                if (PQresultStatus(m) != PGRES_COMMAND_OK && PQresultStatus(m) != PGRES_TUPLES_OK) {
                        first_line(errbuf, errlen, prefix, PQerrorMessage(conn));
                        char ignored[8];
                        exec_ok(conn, "ROLLBACK", ignored, sizeof ignored);
                        r = -EIO;
                        break;
                }
                _cleanup_pgresult_ PGresult *ins = PQexecParams(conn,
                        "INSERT INTO schema_migrations (version) VALUES ($1)", 1, NULL, params, NULL, NULL, 0);
                if (PQresultStatus(ins) != PGRES_COMMAND_OK) {
                        first_line(errbuf, errlen, prefix, PQerrorMessage(conn));
                        char ignored[8];
                        exec_ok(conn, "ROLLBACK", ignored, sizeof ignored);
                        r = -EIO;
                        break;
                }
                if ((r = exec_ok(conn, "COMMIT", errbuf, errlen)) < 0)
                        break;
                applied++;
        }
        char ignored[8];
        exec_ok(conn, "SELECT pg_advisory_unlock(1397050964)", ignored, sizeof ignored);
out:
        free_names(names, n);
        return r < 0 ? r : applied;
}
