/* SPDX-License-Identifier: Apache-2.0 */
/* Landlock: a second filesystem wall that stands even if a mount is wrong. */
#pragma once

#include <stdint.h>

/* The Landlock ABI version the kernel offers, 0 when unavailable. */
int landlock_abi(void);

typedef struct LandlockPolicy {
        const char *const *read_paths;  /* read files and list directories beneath */
        const char *const *exec_paths;  /* also execute beneath */
        const char *const *write_paths; /* read, write, create, remove beneath; exec if in exec_paths */
        const char *const *dev_paths;   /* read, write and ioctl on device files beneath */
} LandlockPolicy;

/* Restricts the calling thread (and its future children) to the policy, with every access right the
 * given ABI knows handled, and (ABI >= 6) abstract UNIX sockets and signals scoped to the domain.
 * Needs no_new_privs. Async-signal-safe (no allocation). Returns 0, or -errno. Paths that do not
 * exist are skipped. */
int landlock_restrict(int abi, const LandlockPolicy *p);
