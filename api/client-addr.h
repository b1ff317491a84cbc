/* SPDX-License-Identifier: Apache-2.0 */
/* Who a request comes from, for per-client limits without API keys: the peer's address, or,
 * when the peer is a trusted proxy (SENTINEL_TRUSTED_PROXIES), the address that proxy saw: the
 * last entry of X-Forwarded-For. Entries the proxy did not add are never trusted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether addr (an IPv4 or IPv6 address in text) is in list: comma-separated addresses or CIDR
 * prefixes ("10.0.0.0/8, ::1, fd00::/8"). Malformed entries match nothing (sentinel-api refuses
 * to start with one: addr_list_valid). */
bool addr_in_list(const char *addr, const char *list);

/* Whether every entry of list parses; else false and the first bad entry in bad (len bytes). */
bool addr_list_valid(const char *list, char *bad, size_t len);

/* Writes the client's address into buf: peer, unless peer is in trusted and xff (may be NULL)
 * ends in a valid address. */
void client_identity(const char *peer, const char *xff, const char *trusted, char *buf, size_t len);
