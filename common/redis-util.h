/* SPDX-License-Identifier: Apache-2.0 */
/* Redis helpers: connecting from a URL, cleanup attributes, the job event stream's names. */
#pragma once

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "cleanup.h"

static inline void redis_freep(redisContext **c)
{
        if (*c)
                redisFree(*c);
}
static inline void redis_reply_freep(redisReply **r)
{
        if (*r)
                freeReplyObject(*r);
}
#define _cleanup_redis_ _cleanup_(redis_freep)
#define _cleanup_reply_ _cleanup_(redis_reply_freep)

/* Connects to redis://[:password@]host[:port][/db]; every later command times out after
 * timeout_ms. Returns 0 or a negative errno with a message in errbuf. */
int redis_util_connect(const char *url, int timeout_ms, redisContext **ret, char *errbuf, size_t errlen);

/* The stream holding a job's events ("sentinel:events:<id>"); each entry has one field, "event",
 * whose value is the JSON text a WebSocket client receives. */
#define EVENTS_KEY_PREFIX "sentinel:events:"
#define EVENTS_FIELD "event"

/* One stream for all jobs: after each event the worker adds the job's id here (field "id"), so a
 * reader follows one stream however many jobs it watches, then reads only the streams named. */
#define NOTIFY_KEY "sentinel:notify"
#define NOTIFY_FIELD "id"
#define NOTIFY_MAXLEN "10000"
