/* SPDX-License-Identifier: Apache-2.0 */
/* The event hub: one thread follows the job event streams in Redis and hands each event to its
 * watchers: ?wait=true requests and WebSocket clients. It blocks on one XREAD of the notification
 * stream (NOTIFY_KEY: the worker adds a job's id after each of its events), then reads only the
 * watched streams named there, so its cost per event does not grow with the number of watchers. A
 * new watcher first gets the stream from its start, so a late subscriber misses nothing still kept.
 * The hub also owns a control connection for short commands (idempotency keys, PING). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "uuid.h"

typedef struct Hub Hub;
typedef struct HubWatch HubWatch;

/* Called on the hub's thread with the hub locked: copy what you need, wake your side, return.
 * Never call back into the hub from here. `final` is set on the job's last event (the result). */
typedef void (*HubEventFn)(void *userdata, const char *event_json, size_t len, bool final);

int hub_start(const Config *cfg, Hub **ret);
Hub *hub_stop(Hub *h);

/* Starts watching a job's events from the beginning of its stream. Returns NULL on ENOMEM. */
HubWatch *hub_watch(Hub *h, const Uuid *id, HubEventFn fn, void *userdata);
/* Stops a watch; after it returns the callback never runs again for it. Accepts NULL. */
void hub_unwatch(Hub *h, HubWatch *w);

/* PING on the control connection: 0, or -EAGAIN when Redis is unreachable. */
int hub_ping(Hub *h);

/* Idempotency: reserves `key` for `value` (SET NX with ttl_s). Returns 0 when reserved, 1 when the
 * key already exists (its value in *ret_existing, caller frees), -EAGAIN when Redis is down. */
int hub_reserve(Hub *h, const char *key, const char *value, unsigned ttl_s, char **ret_existing);
/* Removes a reservation (after a failed insert). */
void hub_release(Hub *h, const char *key);
/* Takes one token from the client's bucket (SENTINEL_RATE_PER_S, SENTINEL_RATE_BURST). Returns 1
 * (taken), 0 (empty: *ret_wait_ms until the next token) or -EAGAIN (Redis unreachable). */
int hub_take_token(Hub *h, const char *client, uint64_t rate_per_s, uint64_t burst, uint64_t *ret_wait_ms);
