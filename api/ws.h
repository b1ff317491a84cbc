/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket endpoint (libwebsockets): ws://HOST:PORT/ws/submissions/{id} streams a job's
 * events in order ({"type": "status" | "stdout" | "stderr" | "result", ...}) and closes after the
 * result. It runs its own service thread; events come from the hub. */
#pragma once

#include "server.h"

typedef struct Ws Ws;

/* Listens on cfg->listen_address:cfg->ws_port and starts the service thread. */
int ws_start(Server *srv, Ws **ret);
/* Closes every connection (1001, going away), stops the thread. Accepts NULL. */
void ws_stop(Ws *ws);
