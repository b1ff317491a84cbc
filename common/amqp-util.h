/* SPDX-License-Identifier: Apache-2.0 */
/* RabbitMQ helpers: connecting from a URL, the job topology, readable errors. */
#pragma once

#include <amqp.h>
#include <stddef.h>

#include "config.h"

#define AMQP_CHANNEL 1

/* Connects, logs in and opens channel AMQP_CHANNEL. heartbeat_s 0 disables heartbeats; the
 * connect attempt gives up after timeout_ms. Returns 0 or a negative errno with a message. */
int amqp_util_connect(const char *url, int heartbeat_s, int timeout_ms, amqp_connection_state_t *ret,
        char *errbuf, size_t errlen);

/* Closes the channel and connection (best effort) and frees the state. Accepts NULL. */
void amqp_util_close(amqp_connection_state_t c);

/* Declares the job topology, identically from every process:
 *   <queue>       quorum queue, durable, x-delivery-limit = cfg->delivery_limit, dead-lettered
 *                 at least once to the exchange <queue>.dlx with routing key <queue>;
 *   <queue>.dlx   direct exchange; <queue>.dead: quorum queue bound to it.
 * Returns 0 or -EPROTO with the broker's reason. */
int amqp_util_declare_topology(amqp_connection_state_t c, const Config *cfg, char *errbuf, size_t errlen);

/* A human reading of an RPC reply ("connection closed by the broker: 406 PRECONDITION_FAILED ..."). */
void amqp_util_describe(amqp_rpc_reply_t reply, char *buf, size_t len);
