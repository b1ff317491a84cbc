/* SPDX-License-Identifier: Apache-2.0 */
/* Monotonic clock readings for deadlines and durations. */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t now_monotonic_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_monotonic_ms(void)
{
        return now_monotonic_ns() / 1000000;
}
