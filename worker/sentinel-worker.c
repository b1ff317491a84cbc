/* SPDX-License-Identifier: Apache-2.0 */
/* sentinel-worker: forks the sandbox executor first (while single-threaded), then consumes jobs
 * until SIGTERM, serving /metrics and /health on the metrics port. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "cpus.h"
#include "config.h"
#include "consumer.h"
#include "executor.h"
#include "log.h"
#include "metrics.h"
#include "sentinel-config.h"

static const char *policy_dir(const Config *cfg)
{
        if (getenv("SENTINEL_POLICY_DIR") || access(cfg->policy_dir, F_OK) == 0)
                return cfg->policy_dir;
        return SENTINEL_SOURCE_POLICY_DIR;
}

static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        WorkerMetrics *m = cls;
        unsigned status = 200;
        char *body = NULL;
        size_t len = 0;
        const char *type = "application/json";
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
                status = 405;
                body = strdup("{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"GET only\"}}");
        } else if (strcmp(url, "/metrics") == 0) {
                if (metrics_render(m->registry, &body, &len) == 0)
                        type = "text/plain; version=0.0.4; charset=utf-8";
                else
                        status = 503;
        } else if (strcmp(url, "/health") == 0)
                body = strdup("{\"status\":\"ok\"}");
        else {
                status = 404;
                body = strdup("{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}");
        }
        if (!body)
                return MHD_NO;
        if (len == 0)
                len = strlen(body);
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        enum MHD_Result r = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static struct MHD_Daemon *start_metrics_server(const Config *cfg, WorkerMetrics *m)
{
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->metrics_port)};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)cfg->metrics_port)};
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
        const struct sockaddr *sa;
        if (inet_pton(AF_INET, cfg->listen_address, &a4.sin_addr) == 1)
                sa = (const struct sockaddr *)&a4;
        else if (inet_pton(AF_INET6, cfg->listen_address, &a6.sin6_addr) == 1) {
                sa = (const struct sockaddr *)&a6;
                flags |= MHD_USE_IPv6;
        } else
                return NULL;
        return MHD_start_daemon(flags, 0, NULL, NULL, on_metrics_request, m, MHD_OPTION_SOCK_ADDR, sa,
                MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
}

static int setup_metrics(WorkerMetrics *m)
{
        m->registry = metrics_registry_new();
        if (!m->registry)
                return -ENOMEM;
        const char *lang_status[] = {"language", "status", NULL};
        const char *lang[] = {"language", NULL};
        const char *none[] = {NULL};
        int r = metrics_counter_new(m->registry, "sentinel_executions_total", "Finished jobs by language and verdict",
                lang_status, &m->executions);
        if (r >= 0)
                r = metrics_histogram_new(m->registry, "sentinel_execution_duration_seconds",
                        "Time from the start of a job's sandbox to its verdict", lang, NULL, 0, &m->duration);
        if (r >= 0)
                r = metrics_histogram_new(m->registry, "sentinel_queue_wait_seconds",
                        "Time from submission to the start of the job", none, NULL, 0, &m->queue_wait);
        if (r >= 0)
                r = metrics_gauge_new(m->registry, "sentinel_workers_active", "Jobs running now", none, &m->active);
        if (r >= 0)
                r = metrics_counter_new(m->registry, "sentinel_sandbox_failures_total",
                        "Jobs that ended INTERNAL_ERROR, and executor deaths", none, &m->sandbox_failures);
        return r;
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
                        printf("Usage: sentinel-worker [--config-reference] [--version]\n"
                               "Runs jobs from RabbitMQ in sandboxes; configuration from SENTINEL_* variables.\n");
                        return 0;
                case 'V':
                        printf("sentinel-worker %s\n", SENTINEL_VERSION);
                        return 0;
                case 'C':
                        config_print_reference();
                        return 0;
                default:
                        return 2;
                }
        if (optind != argc) {
                fprintf(stderr, "sentinel-worker: unexpected argument \"%s\"\n", argv[optind]);
                return 2;
        }
        Config cfg = CONFIG_NULL;
        char err[512];
        if (config_load(&cfg, err, sizeof err) < 0) {
                fprintf(stderr, "sentinel-worker: %s\n", err);
                return 2;
        }
        LogLevel level;
        if (log_level_from_string(cfg.log_level, &level) == 0)
                log_set_level(level);
        if (geteuid() != 0) {
                fprintf(stderr, "sentinel-worker: must run as root (it creates namespaces and cgroups)\n");
                return 2;
        }

        /* Before any thread: the executor is forked from a single-threaded process. */
        unsigned slots = cfg.slots ? (unsigned)cfg.slots : cpus_available();
        Executor *exec = NULL;
        int r = executor_start(&cfg, policy_dir(&cfg), slots, &exec, err, sizeof err);
        if (r < 0) {
                log_error("cannot start the sandbox executor: %s", err);
                config_deinit(&cfg);
                return 1;
        }

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

        WorkerMetrics m = {};
        struct MHD_Daemon *metrics_daemon = NULL;
        if (sfd < 0 || setup_metrics(&m) < 0)
                r = log_error_errno(-ENOMEM, "setup failed");
        else if (!(metrics_daemon = start_metrics_server(&cfg, &m)))
                r = log_error_errno(-EADDRINUSE, "cannot listen on %s:%" PRIu64 " for metrics", cfg.listen_address,
                        cfg.metrics_port);
        else {
                log_info("worker: %u slots; metrics on http://%s:%" PRIu64 "/metrics", slots, cfg.listen_address,
                        cfg.metrics_port);
                r = consumer_run(&cfg, &exec, &m, sfd);
        }
        if (metrics_daemon)
                MHD_stop_daemon(metrics_daemon);
        executor_free(exec);
        metrics_registry_free(m.registry);
        config_deinit(&cfg);
        if (r == 0)
                log_info("stopped");
        return r < 0 ? 1 : 0;
}
