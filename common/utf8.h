/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation, one character at a time. */
#pragma once

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 character at p, with `left` bytes available, or 0 when it is
 * invalid: overlong, a surrogate, above U+10FFFF, or truncated. NUL is a valid 1-byte character. */
size_t utf8_char_len(const unsigned char *p, size_t left);
