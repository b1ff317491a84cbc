/* SPDX-License-Identifier: Apache-2.0 */
/* sentinel-api: the REST gateway. Parses arguments and runs the server until SIGTERM. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cleanup.h"
#include "client-addr.h"
#include "config.h"
#include "log.h"
#include "sentinel-config.h"
#include "server.h"
#include "static.h"
#include "ws.h"

#define MIGRATE_WAIT_S 30
#define PARTITION_INTERVAL_S (6 * 3600)

static const char *languages_file(const Config *cfg, char *buf, size_t len)
{
        const char *dir = cfg->policy_dir;
        if (!getenv("SENTINEL_POLICY_DIR") && access(dir, F_OK) != 0)
                dir = SENTINEL_SOURCE_POLICY_DIR;
        snprintf(buf, len, "%s/languages.json", dir);
        return buf;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: sentinel-api [--config-reference] [--version]\n"
                   "       sentinel-api keys create NAME | revoke NAME-OR-ID | list\n"
                   "Runs the REST API and the WebSocket endpoint; configuration comes from SENTINEL_*\n"
                   "environment variables (see --config-reference). `keys` manages the API keys in the\n"
                   "database SENTINEL_DATABASE_URL names: while one is active, every /api route needs one.\n");
}

/* sentinel-api keys ...: returns the exit status. */
static int keys_command(const Config *cfg, int argc, char **argv)
{
        const char *verb = argc > 0 ? argv[0] : "";
        bool create = strcmp(verb, "create") == 0, revoke = strcmp(verb, "revoke") == 0,
             list = strcmp(verb, "list") == 0;
        if (!(create || revoke || list) || argc != (list ? 1 : 2)) {
                usage(stderr);
                return 2;
        }
        if (create && (strlen(argv[1]) == 0 || strlen(argv[1]) > 64 ||
                       strspn(argv[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                               strlen(argv[1]))) {
                fprintf(stderr, "sentinel-api keys: \"%s\" is not a valid name (1-64 of A-Z a-z 0-9 . _ -)\n", argv[1]);
                return 1;
        }
        char err[512];
        Store *store = NULL;
        int r = store_new(cfg, &store, err, sizeof err);
        if (r >= 0)
                r = store_migrate(store, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "sentinel-api keys: database: %s\n", err);
                store_free(store);
                return 1;
        }
        int status = 0;
        if (create) {
                char key[API_KEY_LEN + 1], hash[65], prefix[API_KEY_SHOWN + 1];
                _cleanup_free_ char *id = NULL;
                r = api_key_generate(key);
                if (r == 0) {
                        api_key_hash(key, strlen(key), hash);
                        snprintf(prefix, sizeof prefix, "%s", key);
                        r = store_key_create(store, argv[1], hash, prefix, &id);
                }
                if (r == -EEXIST)
                        fprintf(stderr, "sentinel-api keys: an active key is named \"%s\" already\n", argv[1]);
                else if (r < 0)
                        fprintf(stderr, "sentinel-api keys: %s\n", strerror(-r));
                else
                        printf("id   %s\nname %s\nkey  %s\n(shown once: only its hash is kept)\n", id, argv[1], key);
        } else if (revoke) {
                r = store_key_revoke(store, argv[1]);
                if (r == -ENOENT)
                        fprintf(stderr, "sentinel-api keys: no active key is named or numbered \"%s\"\n", argv[1]);
                else if (r < 0)
                        fprintf(stderr, "sentinel-api keys: %s\n", strerror(-r));
                else
                        printf("revoked %s (running API processes stop taking it within %" PRIu64 " ms)\n", argv[1],
                                cfg->auth_refresh_ms);
        } else {
                _cleanup_free_ char *text = NULL;
                r = store_key_list(store, &text);
                if (r < 0)
                        fprintf(stderr, "sentinel-api keys: %s\n", strerror(-r));
                else if (*text)
                        printf("%s\n", text);
        }
        if (r < 0)
                status = 1;
        store_free(store);
        return status;
}

static int run(Server *srv)
{
        char err[512];
        LanguageRegistry *langs = NULL;
        char path[4096];
        int r = language_registry_from_file(languages_file(srv->cfg, path, sizeof path), &langs, err, sizeof err);
        if (r < 0)
                return log_error_errno(r, "language registry %s: %s", path, err);
        srv->langs = langs;
        json_t *lj = language_registry_to_json(langs);
        srv->languages_json = lj ? json_dumps(lj, JSON_COMPACT) : NULL;
        json_decref(lj);
        if (!srv->languages_json)
                return log_error_errno(-ENOMEM, "out of memory");

        srv->metrics = metrics_registry_new();
        if (!srv->metrics)
                return log_error_errno(-ENOMEM, "out of memory");
        const char *route_status[] = {"route", "status", NULL};
        r = metrics_counter_new(srv->metrics, "sentinel_http_requests_total", "HTTP requests by route and status",
                route_status, &srv->m_requests);
        if (r >= 0)
                r = metrics_histogram_new(srv->metrics, "sentinel_http_request_duration_seconds",
                        "HTTP request latency by route and status", route_status, NULL, 0, &srv->m_latency);
        if (r < 0)
                return log_error_errno(r, "metrics");

        r = store_new(srv->cfg, &srv->store, err, sizeof err);
        if (r < 0)
                return log_error_errno(r, "database: %s", err);
        /* The schema comes first: wait a little for PostgreSQL (it may be starting next to us). */
        for (int i = 0;; i++) {
                r = store_migrate(srv->store, err, sizeof err);
                if (r >= 0)
                        break;
                if (r != -EAGAIN || i >= MIGRATE_WAIT_S)
                        return log_error_errno(r, "migrations: %s", err);
                sleep(1);
        }
        r = result_cache_new(srv->cfg->result_cache_entries, srv->cfg->result_cache_mb << 20, &srv->results);
        if (r < 0)
                return log_error_errno(r, "result cache");
        r = auth_start(srv->cfg, srv->store, &srv->auth);
        if (r < 0)
                return log_error_errno(r, "API keys");
        r = publisher_start(srv->cfg, srv->store, &srv->publisher);
        if (r < 0)
                return log_error_errno(r, "publisher");
        r = hub_start(srv->cfg, &srv->hub);
        if (r < 0)
                return log_error_errno(r, "event hub");
        r = web_root_open(srv->cfg->web_root, &srv->web);
        if (r < 0)
                return log_error_errno(r, "SENTINEL_WEB_ROOT=%s", srv->cfg->web_root);
        if (srv->web)
                log_info("serving the browser editor from %s", srv->cfg->web_root);
        r = server_start(srv);
        if (r < 0)
                return r;
        Ws *ws = NULL;
        r = ws_start(srv, &ws);
        if (r < 0)
                return r;

        /* The main thread waits for SIGTERM/SIGINT and keeps partitions ahead of time. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        for (;;) {
                struct timespec ts = {.tv_sec = PARTITION_INTERVAL_S};
                int sig = sigtimedwait(&set, NULL, &ts);
                if (sig == SIGTERM || sig == SIGINT) {
                        log_info("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        break;
                }
                if (sig < 0 && errno == EAGAIN && store_ensure_partitions(srv->store) < 0)
                        log_warning("could not create the coming partitions; will retry");
        }
        ws_stop(ws);
        server_stop(srv);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {"config-reference", no_argument, NULL, 'C'},
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1)
                switch (c) {
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("sentinel-api %s\n", SENTINEL_VERSION);
                        return 0;
                case 'C':
                        config_print_reference();
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        bool keys = optind < argc && strcmp(argv[optind], "keys") == 0;
        if (optind != argc && !keys) {
                fprintf(stderr, "sentinel-api: unexpected argument \"%s\"\n", argv[optind]);
                usage(stderr);
                return 2;
        }

        Config cfg = CONFIG_NULL;
        char err[512];
        if (config_load(&cfg, err, sizeof err) < 0) {
                fprintf(stderr, "sentinel-api: %s\n", err);
                return 2;
        }
        char bad[128];
        if (!addr_list_valid(cfg.trusted_proxies, bad, sizeof bad)) {
                fprintf(stderr, "sentinel-api: SENTINEL_TRUSTED_PROXIES: \"%s\" is not an IP address or CIDR prefix\n",
                        bad);
                config_deinit(&cfg);
                return 2;
        }
        LogLevel level;
        if (log_level_from_string(cfg.log_level, &level) == 0)
                log_set_level(level);
        if (keys) {
                log_set_level(LOG_LEVEL_WARNING);
                int st = keys_command(&cfg, argc - optind - 1, argv + optind + 1);
                config_deinit(&cfg);
                return st;
        }

        /* Signals are taken by the main thread only: block them before any thread starts. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);

        /* Every client is a descriptor (HTTP, WebSocket, waiting requests): take the hard limit,
         * not the soft one a shell or systemd hands out (often 1024). */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &nofile);
        }
        signal(SIGPIPE, SIG_IGN);

        Server srv = {.cfg = &cfg};
        int r = run(&srv);
        publisher_stop(srv.publisher);
        hub_stop(srv.hub);
        auth_stop(srv.auth);
        result_cache_free(srv.results);
        store_free(srv.store);
        web_root_free(srv.web);
        metrics_registry_free(srv.metrics);
        language_registry_free(srv.langs);
        free(srv.languages_json);
        config_deinit(&cfg);
        if (r == 0)
                log_info("stopped");
        return r < 0 ? 1 : 0;
}
