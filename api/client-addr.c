/* SPDX-License-Identifier: Apache-2.0 */
#include "client-addr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Addr {
        int family;
        uint8_t bytes[16];
} Addr;

static bool parse_addr(const char *s, size_t n, Addr *ret)
{
        char buf[INET6_ADDRSTRLEN + 1];
        if (n == 0 || n >= sizeof buf)
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, ret->bytes) == 1) {
                ret->family = AF_INET;
                return true;
        }
        if (inet_pton(AF_INET6, buf, ret->bytes) == 1) {
                ret->family = AF_INET6;
                return true;
        }
        return false;
}

static bool prefix_matches(const Addr *a, const Addr *net, unsigned bits)
{
        if (a->family != net->family)
                return false;
        unsigned full = bits / 8, rest = bits % 8;
        if (memcmp(a->bytes, net->bytes, full) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a->bytes[full] & mask) == (net->bytes[full] & mask);
}

static const char *trim(const char *s, const char *end, size_t *ret_len)
{
        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        *ret_len = (size_t)(end - s);
        return s;
}

/* Parses one list entry (an address, or a CIDR prefix): the network and its prefix length. */
static bool parse_entry(const char *e, size_t n, Addr *ret, unsigned *ret_bits)
{
        const char *slash = memchr(e, '/', n);
        if (!slash) {
                if (!parse_addr(e, n, ret))
                        return false;
                *ret_bits = ret->family == AF_INET ? 32 : 128;
                return true;
        }
        if (!parse_addr(e, (size_t)(slash - e), ret))
                return false;
        char *stop;
        unsigned long bits = strtoul(slash + 1, &stop, 10);
        if (stop != e + n || stop == slash + 1 || bits > (ret->family == AF_INET ? 32u : 128u))
                return false;
        *ret_bits = (unsigned)bits;
        return true;
}

/* Calls f on each entry of list (trimmed, empty ones skipped) until it returns true. */
static bool each_entry(const char *list, bool (*f)(const char *e, size_t n, void *userdata), void *userdata)
{
        for (const char *p = list; *p;) {
                const char *comma = strchr(p, ',');
                const char *end = comma ? comma : p + strlen(p);
                size_t n;
                const char *e = trim(p, end, &n);
                if (n > 0 && f(e, n, userdata))
                        return true;
                p = comma ? comma + 1 : end;
        }
        return false;
}

static bool entry_matches(const char *e, size_t n, void *userdata)
{
        const Addr *a = userdata;
        Addr net;
        unsigned bits;
        return parse_entry(e, n, &net, &bits) && prefix_matches(a, &net, bits);
}

bool addr_in_list(const char *addr, const char *list)
{
        Addr a;
        if (!addr || !list || !parse_addr(addr, strlen(addr), &a))
                return false;
        return each_entry(list, entry_matches, &a);
}

typedef struct BadEntry {
        char *buf;
        size_t len;
} BadEntry;

static bool entry_bad(const char *e, size_t n, void *userdata)
{
        BadEntry *b = userdata;
        Addr net;
        unsigned bits;
        if (parse_entry(e, n, &net, &bits))
                return false;
        snprintf(b->buf, b->len, "%.*s", (int)n, e);
        return true;
}

bool addr_list_valid(const char *list, char *bad, size_t len)
{
        BadEntry b = {bad, len};
        return !list || !each_entry(list, entry_bad, &b);
}

void client_identity(const char *peer, const char *xff, const char *trusted, char *buf, size_t len)
{
        snprintf(buf, len, "%s", peer ? peer : "unknown");
        if (!xff || !trusted || !*trusted || !addr_in_list(peer, trusted))
                return;
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        size_t n;
        const char *e = trim(last, last + strlen(last), &n);
        Addr a;
        if (parse_addr(e, n, &a))
                snprintf(buf, len, "%.*s", (int)n, e);
}
