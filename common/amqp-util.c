/* SPDX-License-Identifier: Apache-2.0 */
/* RabbitMQ helpers: connecting from a URL, the job topology, readable errors. */
#include "amqp-util.h"

#include <amqp_tcp_socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cleanup.h"

void amqp_util_describe(amqp_rpc_reply_t reply, char *buf, size_t len)
{
        switch (reply.reply_type) {
        case AMQP_RESPONSE_NORMAL:
                snprintf(buf, len, "ok");
                return;
        case AMQP_RESPONSE_NONE:
                snprintf(buf, len, "no reply (missing RPC reply type)");
                return;
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
                snprintf(buf, len, "%s", amqp_error_string2(reply.library_error));
                return;
        case AMQP_RESPONSE_SERVER_EXCEPTION:
                if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
                        const amqp_connection_close_t *m = reply.reply.decoded;
                        snprintf(buf, len, "connection closed by the broker: %u %.*s", m->reply_code,
                                (int)MIN(m->reply_text.len, 300), (const char *)m->reply_text.bytes);
                } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
                        const amqp_channel_close_t *m = reply.reply.decoded;
                        snprintf(buf, len, "channel closed by the broker: %u %.*s", m->reply_code,
                                (int)MIN(m->reply_text.len, 300), (const char *)m->reply_text.bytes);
                } else
                        snprintf(buf, len, "broker error (method 0x%08x)", reply.reply.id);
                return;
        }
        snprintf(buf, len, "unknown reply");
}

int amqp_util_connect(const char *url, int heartbeat_s, int timeout_ms, amqp_connection_state_t *ret,
        char *errbuf, size_t errlen)
{
        _cleanup_free_ char *copy = strdup(url);
        if (!copy)
                return -ENOMEM;
        struct amqp_connection_info info;
        amqp_default_connection_info(&info);
        if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
                snprintf(errbuf, errlen, "SENTINEL_AMQP_URL is not an amqp:// URL");
                return -EINVAL;
        }
        /* "amqp://host/" parses to the empty vhost; everyone means the default one. */
        if (!info.vhost || !*info.vhost)
                info.vhost = "/";
        if (info.ssl) {
                snprintf(errbuf, errlen, "amqps:// is not supported; use a TLS sidecar");
                return -EINVAL;
        }
        amqp_connection_state_t c = amqp_new_connection();
        if (!c)
                return -ENOMEM;
        amqp_socket_t *sock = amqp_tcp_socket_new(c);
        if (!sock) {
                amqp_destroy_connection(c);
                return -ENOMEM;
        }
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        int st = amqp_socket_open_noblock(sock, info.host, info.port, &tv);
        if (st != AMQP_STATUS_OK) {
                snprintf(errbuf, errlen, "cannot reach RabbitMQ at %s:%d: %s", info.host, info.port,
                        amqp_error_string2(st));
                amqp_destroy_connection(c);
                return -ECONNREFUSED;
        }
        /* Bound every later RPC too: a broker that stops answering must not hang the caller. */
        amqp_set_rpc_timeout(c, &tv);
        amqp_rpc_reply_t r = amqp_login(c, info.vhost, 0, 131072, heartbeat_s, AMQP_SASL_METHOD_PLAIN,
                info.user, info.password);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                char why[400];
                amqp_util_describe(r, why, sizeof why);
                snprintf(errbuf, errlen, "RabbitMQ login failed: %s", why);
                amqp_destroy_connection(c);
                return -EACCES;
        }
        amqp_channel_open(c, AMQP_CHANNEL);
        r = amqp_get_rpc_reply(c);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                char why[400];
                amqp_util_describe(r, why, sizeof why);
                snprintf(errbuf, errlen, "RabbitMQ channel: %s", why);
                amqp_connection_close(c, AMQP_REPLY_SUCCESS);
                amqp_destroy_connection(c);
                return -EPROTO;
        }
        *ret = c;
        return 0;
}

void amqp_util_close(amqp_connection_state_t c)
{
        if (!c)
                return;
        amqp_channel_close(c, AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(c);
}

static int reply_ok(amqp_connection_state_t c, const char *what, char *errbuf, size_t errlen)
{
        amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
        if (r.reply_type == AMQP_RESPONSE_NORMAL)
                return 0;
        char why[400];
        amqp_util_describe(r, why, sizeof why);
        snprintf(errbuf, errlen, "%s: %s", what, why);
        return -EPROTO;
}

#define ENTRY_STR(k, v) {.key = amqp_cstring_bytes(k), .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(v)}}
#define ENTRY_I64(k, v) {.key = amqp_cstring_bytes(k), .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = (v)}}

int amqp_util_declare_topology(amqp_connection_state_t c, const Config *cfg, char *errbuf, size_t errlen)
{
        char dlx[300], dead[300];
        snprintf(dlx, sizeof dlx, "%s.dlx", cfg->queue);
        snprintf(dead, sizeof dead, "%s.dead", cfg->queue);

        amqp_exchange_declare(c, AMQP_CHANNEL, amqp_cstring_bytes(dlx), amqp_cstring_bytes("direct"), 0, 1, 0, 0,
                amqp_empty_table);
        int r = reply_ok(c, "declaring the dead-letter exchange", errbuf, errlen);
        if (r < 0)
                return r;

        amqp_table_entry_t dead_args[] = {ENTRY_STR("x-queue-type", "quorum")};
        amqp_queue_declare(c, AMQP_CHANNEL, amqp_cstring_bytes(dead), 0, 1, 0, 0,
                (amqp_table_t){.num_entries = (int)ELEMENTSOF(dead_args), .entries = dead_args});
        if ((r = reply_ok(c, "declaring the dead-letter queue", errbuf, errlen)) < 0)
                return r;
        amqp_queue_bind(c, AMQP_CHANNEL, amqp_cstring_bytes(dead), amqp_cstring_bytes(dlx),
                amqp_cstring_bytes(cfg->queue), amqp_empty_table);
        if ((r = reply_ok(c, "binding the dead-letter queue", errbuf, errlen)) < 0)
                return r;

        /* at-least-once dead-lettering needs reject-publish overflow: a job that crashed its
         * workers reaches the dead-letter queue even if the broker restarts meanwhile. */
        amqp_table_entry_t args[] = {
                ENTRY_STR("x-queue-type", "quorum"),
                ENTRY_I64("x-delivery-limit", (int64_t)cfg->delivery_limit),
                ENTRY_STR("x-dead-letter-exchange", dlx),
                ENTRY_STR("x-dead-letter-routing-key", cfg->queue),
                ENTRY_STR("x-dead-letter-strategy", "at-least-once"),
                ENTRY_STR("x-overflow", "reject-publish"),
        };
        amqp_queue_declare(c, AMQP_CHANNEL, amqp_cstring_bytes(cfg->queue), 0, 1, 0, 0,
                (amqp_table_t){.num_entries = (int)ELEMENTSOF(args), .entries = args});
        return reply_ok(c, "declaring the job queue", errbuf, errlen);
}
