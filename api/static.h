/* SPDX-License-Identifier: Apache-2.0 */
/* The browser editor's files, served from SENTINEL_WEB_ROOT (web/dist): index.html for "/" and
 * "/s/{id}", hashed files below "/assets/", and GET /api/v1/config (what the page needs to know:
 * the WebSocket port, the limits). Nothing outside the root is ever opened: every path component
 * is checked, then opened with openat(O_NOFOLLOW) from the root's directory fd. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server.h"

typedef struct WebRoot WebRoot;

/* Opens dir as the web root (an O_PATH directory fd kept for the process' life). An empty dir
 * means no page: 0 with *ret = NULL. -errno when dir cannot be opened as a directory. */
int web_root_open(const char *dir, WebRoot **ret);
WebRoot *web_root_free(WebRoot *w);

/* True when name is one path component we serve: 1..255 bytes of [A-Za-z0-9._-], not starting
 * with a dot (so never ".", ".." or a hidden file). */
bool static_name_valid(const char *name);

/* Opens relpath ("index.html", "assets/x.js": components separated by single slashes, each
 * static_name_valid) below w without following any symlink. On success *ret_fd is a read-only
 * fd of a regular file and *ret_size its size. -EINVAL for a path we refuse to look up, -ELOOP for
 * a symlink, -ENOTDIR for a symlink or file where a directory is needed, -ENOENT for a missing
 * or non-regular file, other -errno from the kernel. */
int static_open(const WebRoot *w, const char *relpath, int *ret_fd, uint64_t *ret_size);

/* The Content-Type for a file name, by extension (application/octet-stream when unknown). */
const char *static_content_type(const char *name);

/* Writes the page's Content-Security-Policy into buf: the API's policy, opened just enough for
 * the editor (scripts, fonts and its worker from this origin, Monaco's injected styles, and
 * connections to the WebSocket port of host). host is the request's Host header (may be NULL). */
void static_page_csp(const char *host, uint64_t ws_port, char *buf, size_t len);

/* Route handlers. */
void static_index(Request *rq);  /* GET / and /s/{id}: index.html */
void static_asset(Request *rq);  /* GET /assets/{id} */
void static_config(Request *rq); /* GET /api/v1/config */
