/* SPDX-License-Identifier: Apache-2.0 */
/* Policy: the language registry and the seccomp profiles it names, loaded and compiled once. */
#pragma once

#include <stddef.h>

#include "language.h"
#include "seccomp-profile.h"

typedef struct Policy {
        char *dir;
        LanguageRegistry *languages;
        SeccompProgram **profiles;
        size_t n_profiles;
        char **ro_mounts; /* lazily built by policy_ro_mounts(); strings borrowed */
        char error[512];  /* why the last policy_profile() failed */
} Policy;

/* Loads and validates <dir>/languages.json. Profiles are compiled on first use (policy_profile) or
 * all at once (policy_compile_all). -EINVAL/-ENOENT with a message naming the file on failure. */
int policy_load(const char *dir, Policy **ret, char *errbuf, size_t errlen);
Policy *policy_free(Policy *p);
/* Compiles <dir>/seccomp/<name>.json once (killing rules report through a seccomp listener) and
 * returns it; NULL on failure, with the reason in p->error. */
const SeccompProgram *policy_profile(Policy *p, const char *name);
/* Compiles every profile a language names: a long-lived service fails fast at start. */
int policy_compile_all(Policy *p, char *errbuf, size_t errlen);

#include "cleanup.h"
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

/* Every ro_mount any language uses, NULL-terminated (for the launcher's mount points). Owned by p. */
const char *const *policy_ro_mounts(Policy *p);
