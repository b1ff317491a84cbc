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
} Policy;

/* Loads <dir>/languages.json and compiles <dir>/seccomp/<name>.json for every profile name a
 * language uses (killing rules report through a seccomp listener). -EINVAL/-ENOENT with a message
 * naming the file on failure. */
int policy_load(const char *dir, Policy **ret, char *errbuf, size_t errlen);
Policy *policy_free(Policy *p);
const SeccompProgram *policy_profile(const Policy *p, const char *name);

#include "cleanup.h"
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

/* Every ro_mount any language uses, NULL-terminated (for the launcher's mount points). Owned by p. */
const char *const *policy_ro_mounts(Policy *p);
