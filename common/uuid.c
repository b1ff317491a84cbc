/* SPDX-License-Identifier: Apache-2.0 */
/* UUIDv7 (RFC 9562): time-ordered ids, their canonical text form and its parser. */
#include "uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cleanup.h"

/* Random bytes are read from the kernel a page at a time, per thread, so that an id costs no
 * syscall. 10 bytes an id: 8 for rand_b, 2 to seed the counter when a new millisecond starts. */
#define RANDOM_POOL_SIZE 4096
#define RANDOM_PER_ID    10

typedef struct RandomPool {
        uint8_t buf[RANDOM_POOL_SIZE];
        size_t left; /* unused bytes, at the end of buf */
} RandomPool;

static __thread RandomPool random_pool;

/* A fork()ed child must not hand out the random bytes its parent hands out too: forget them in the
 * child. Only the forking thread lives on in the child, and the handler runs on it. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_error;

static void random_pool_forget(void)
{
        random_pool.left = 0;
}

static void atfork_register(void)
{
        atfork_error = pthread_atfork(NULL, NULL, random_pool_forget);
}

/* The last (unix_ms << 12 | counter) handed out by this process. Process-wide by necessity: ids
 * made on different threads are ordered by one point of truth. Keeping both fields in one word
 * makes a counter overflow carry into the timestamp, which is what RFC 9562 §6.2 asks for. */
static _Atomic uint64_t uuid7_last;

#define UUID7_COUNTER_BITS 12
#define UUID7_TS_MAX       ((UINT64_C(1) << 48) - 1)

static int random_bytes(void *p, size_t n)
{
        RandomPool *pool = &random_pool;
        if (pool->left < n) {
                size_t got = 0;
                while (got < sizeof pool->buf) {
                        ssize_t k = getrandom(pool->buf + got, sizeof pool->buf - got, 0);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return errno > 0 ? -errno : -EIO;
                        }
                        got += (size_t)k;
                }
                pool->left = sizeof pool->buf;
        }
        memcpy(p, pool->buf + sizeof pool->buf - pool->left, n);
        pool->left -= n;
        return 0;
}

static uint64_t now_unix_ms(void)
{
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
                return 0;
        uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        return MIN(ms, UUID7_TS_MAX);
}

int uuid7_new(Uuid *ret)
{
        int r = pthread_once(&atfork_once, atfork_register);
        if (r == 0)
                r = atfork_error;
        if (r != 0)
                return -r;

        uint8_t rnd[RANDOM_PER_ID];
        r = random_bytes(rnd, sizeof rnd);
        if (r < 0)
                return r;

        uint64_t now = now_unix_ms();
        uint64_t last = atomic_load_explicit(&uuid7_last, memory_order_relaxed), next;
        do {
                if ((last >> UUID7_COUNTER_BITS) < now)
                        /* A new millisecond: a random counter start, its top bit clear so that at
                         * least 2048 ids fit before the counter overflows (RFC 9562 §6.2). */
                        next = now << UUID7_COUNTER_BITS | ((rnd[8] | (unsigned)rnd[9] << 8) & 0x7FF);
                else
                        /* Same millisecond, or the clock went back: count on from the last id. */
                        next = last + 1;
        } while (!atomic_compare_exchange_weak_explicit(
                &uuid7_last, &last, next, memory_order_relaxed, memory_order_relaxed));

        uint64_t ts = next >> UUID7_COUNTER_BITS;
        unsigned counter = next & ((1u << UUID7_COUNTER_BITS) - 1);
        Uuid u;
        for (int i = 0; i < 6; i++)
                u.bytes[i] = (uint8_t)(ts >> (40 - 8 * i));
        u.bytes[6] = (uint8_t)(0x70 | counter >> 8);
        u.bytes[7] = (uint8_t)counter;
        memcpy(u.bytes + 8, rnd, 8);
        u.bytes[8] = (uint8_t)(0x80 | (u.bytes[8] & 0x3F));
        *ret = u;
        return 0;
}

void uuid_format(const Uuid *u, char out[UUID_STRING_LEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < sizeof u->bytes; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        out[o++] = '-';
                out[o++] = hex[u->bytes[i] >> 4];
                out[o++] = hex[u->bytes[i] & 0xF];
        }
        out[o] = '\0';
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int uuid_parse(const char *s, size_t len, Uuid *ret)
{
        if (!s || len != UUID_STRING_LEN)
                return -EINVAL;
        Uuid u;
        size_t b = 0;
        /* Every group has an even number of digits, so a byte never straddles a dash. */
        for (size_t i = 0; i < len;) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        i++;
                        continue;
                }
                int hi = unhex(s[i]), lo = unhex(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                u.bytes[b++] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        *ret = u;
        return 0;
}

bool uuid_is_v7(const Uuid *u)
{
        return (u->bytes[6] >> 4) == 7 && (u->bytes[8] & 0xC0) == 0x80;
}

uint64_t uuid7_unix_ms(const Uuid *u)
{
        uint64_t ms = 0;
        for (int i = 0; i < 6; i++)
                ms = ms << 8 | u->bytes[i];
        return ms;
}
