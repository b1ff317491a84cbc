/* SPDX-License-Identifier: Apache-2.0 */
/* UUIDv7 (RFC 9562): time-ordered ids, their canonical text form and its parser. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_STRING_LEN 36

typedef struct Uuid {
        uint8_t bytes[16];
} Uuid;

/* Makes a new UUIDv7: 48-bit Unix milliseconds, then a 12-bit counter (RFC 9562 §6.2 method 1)
 * and 62 random bits. Within a process ids strictly increase (as bytes and as strings) in the order
 * they are made, across threads, even when the clock steps back or thousands are made in one
 * millisecond. Thread-safe and fork-safe. Returns 0, or -errno if getrandom(2) fails. */
int uuid7_new(Uuid *ret);

/* Writes the lowercase canonical form (8-4-4-4-12) and a NUL into out. */
void uuid_format(const Uuid *u, char out[UUID_STRING_LEN + 1]);

/* Parses exactly the canonical 36-character form (hex digits in either case); s need not be
 * NUL-terminated. Returns 0 and sets *ret, or -EINVAL for anything else (other lengths, braces,
 * "urn:uuid:", missing or misplaced dashes, NUL). Any version is accepted: see uuid_is_v7(). */
int uuid_parse(const char *s, size_t len, Uuid *ret);

/* Whether the version field is 7 and the variant is RFC 9562's (binary 10). */
bool uuid_is_v7(const Uuid *u);

/* The Unix time in milliseconds a UUIDv7 carries in its first 48 bits. */
uint64_t uuid7_unix_ms(const Uuid *u);
