/* SPDX-License-Identifier: Apache-2.0 */
/* JSON helpers on jansson. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* A JSON string of len bytes of data; invalid UTF-8 (and NUL) become U+FFFD. NULL on OOM. */
json_t *json_string_lossy(const char *data, size_t len);

/* Loads a JSON document from an open fd, refusing more than max_bytes or nesting deeper than
 * max_depth. Returns 0 and sets *ret (caller owns), or -errno; on a parse error -EINVAL with a
 * message "line:col: text" in errbuf. */
int json_load_fd(int fd, size_t max_bytes, size_t max_depth, json_t **ret, char *errbuf, size_t errlen);
/* Same from a buffer. */
int json_load_buffer(const char *data, size_t len, size_t max_depth, json_t **ret, char *errbuf, size_t errlen);
/* Depth of nesting of a document (a scalar is 0). */
size_t json_depth(const json_t *j);
