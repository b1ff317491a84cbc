/* SPDX-License-Identifier: Apache-2.0 */
/* What every unit test shares: CHECK() and the closing "N passed, M failed" line.
 *
 * The counters live in a shared mapping, so checks made in fork()ed children count too. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static unsigned *test_counts; /* [0] passed, [1] failed */

__attribute__((constructor)) static void test_counts_init(void)
{
        test_counts = mmap(NULL, 2 * sizeof *test_counts, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (test_counts == MAP_FAILED)
                abort();
}

/* Prints the optional printf-style detail of a failed check. */
static inline void test_detail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
}

/* CHECK(cond) or CHECK(cond, "format", args...): counts, and on failure says where and why. */
#define CHECK(cond, ...)                                                                               \
        do {                                                                                           \
                if (cond)                                                                              \
                        __atomic_add_fetch(&test_counts[0], 1, __ATOMIC_SEQ_CST);                      \
                else {                                                                                 \
                        __atomic_add_fetch(&test_counts[1], 1, __ATOMIC_SEQ_CST);                      \
                        printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                         \
                        test_detail("" __VA_ARGS__);                                                   \
                        printf("\n");                                                                  \
                        fflush(stdout);                                                                \
                }                                                                                      \
        } while (0)

static inline unsigned test_failed(void)
{
        return __atomic_load_n(&test_counts[1], __ATOMIC_SEQ_CST);
}

/* Prints the closing line; returns the exit status (0 when nothing failed). */
static inline int test_summary(void)
{
        printf("%u passed, %u failed\n", test_counts[0], test_counts[1]);
        return test_counts[1] ? 1 : 0;
}
