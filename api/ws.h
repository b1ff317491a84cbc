/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket endpoint (libwebsockets): ws://HOST:PORT/ws/submissions/{id} streams a job's events.
 *
 * Messages are JSON text, in order: {"type": "status" | "stdout" | "stderr" | "result", ...}; a job
 * still QUEUED first gets {"type":"status","status":"QUEUED"}; "result" carries the whole result and
 * is followed by a normal close (1000). A client that comes after the job ended gets the stream's
 * replay while Redis keeps it, else the result from PostgreSQL. Errors are one message,
 * {"type":"error","error":{"code","message"}}, then a close: not_found 1008, unavailable (PostgreSQL
 * unreachable) 1011. Other closes: 1008 "too slow" (a client that stops reading), 1009 (a client
 * that sends more than 4 KiB), 1001 (server stopping).
 *
 * Refused upgrades are plain HTTP with a JSON error body: 404 another path, 400 an id that is not a
 * UUID, 403 an Origin that SENTINEL_WS_ORIGINS does not allow, 503 at SENTINEL_MAX_CONNECTIONS or
 * while stopping. GET /health on the same port answers 200 {"status":"ok"}. */
#pragma once

#include "server.h"

typedef struct Ws Ws;

/* Listens on cfg->listen_address:cfg->ws_port and starts the service and lookup threads; srv (cfg,
 * hub, store, and metrics if set) must outlive it. Returns 0, -EINVAL without a hub or store,
 * -EADDRINUSE when lws cannot listen, -ENOMEM, or another negative errno. */
int ws_start(Server *srv, Ws **ret);
/* Refuses new clients, closes every connection (1001, going away; cut after 2 s if it cannot take
 * the close), stops the threads, removes every hub watch and frees everything. Call before
 * hub_stop(). Accepts NULL. */
void ws_stop(Ws *ws);
