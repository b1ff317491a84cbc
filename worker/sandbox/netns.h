/* SPDX-License-Identifier: Apache-2.0 */
/* Pooled network namespaces: an empty one (loopback only) per slot, entered with setns(). */
#pragma once

/* Creates a network namespace holding only an up loopback interface and returns an fd to it. The
 * caller's own network namespace is unchanged on return. Must be called single-threaded. */
int netns_new_loopback(int *ret_fd);
