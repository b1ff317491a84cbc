/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher: one thread that owns the RabbitMQ connection, publishes job ids as persistent
 * messages with publisher confirms, records confirmed ones in PostgreSQL (their outbox rows go),
 * and re-publishes submissions whose publish was never confirmed (the relay). */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "store.h"
#include "uuid.h"

typedef struct Publisher Publisher;

/* Starts the thread. It connects (and reconnects) on its own: a broker that is down at start is
 * not an error. */
int publisher_start(const Config *cfg, Store *store, Publisher **ret);

/* Queues a committed submission for publishing. Never blocks: when the in-memory queue is full
 * the id is left to the relay (its row stays unconfirmed). */
void publisher_submit(Publisher *p, const Uuid *id);

/* Whether the connection to RabbitMQ is up (for /ready). */
bool publisher_connected(Publisher *p);

/* Stops the thread after a last attempt to publish what is queued. Accepts NULL. */
Publisher *publisher_stop(Publisher *p);
