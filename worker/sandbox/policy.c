/* SPDX-License-Identifier: Apache-2.0 */
/* Policy: languages and their compiled seccomp profiles. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static const SeccompProgram *policy_find_profile(const Policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_profiles; i++)
                if (strcmp(p->profiles[i]->name, name) == 0)
                        return p->profiles[i];
        return NULL;
}

static int policy_add_profile(Policy *p, const char *name, char *errbuf, size_t errlen)
{
        if (policy_find_profile(p, name))
                return 0;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/seccomp/%s.json", p->dir, name) < 0)
                return -ENOMEM;
        char msg[512] = "";
        SeccompProgram *prog = NULL;
        int r = seccomp_program_from_file(path, SECCOMP_PROFILE_KILL_VIA_NOTIFY, &prog, msg, sizeof msg);
        if (r < 0) {
                snprintf(errbuf, errlen, "%s: %s", path, msg[0] ? msg : strerror(-r));
                return r;
        }
        SeccompProgram **n = realloc(p->profiles, (p->n_profiles + 1) * sizeof *n);
        if (!n) {
                seccomp_program_free(prog);
                return -ENOMEM;
        }
        p->profiles = n;
        p->profiles[p->n_profiles++] = prog;
        return 0;
}

const SeccompProgram *policy_profile(Policy *p, const char *name)
{
        if (policy_add_profile(p, name, p->error, sizeof p->error) < 0)
                return NULL;
        return policy_find_profile(p, name);
}

int policy_compile_all(Policy *p, char *errbuf, size_t errlen)
{
        for (size_t i = 0; i < p->languages->n_languages; i++) {
                const Language *lang = &p->languages->languages[i];
                int r = policy_add_profile(p, lang->run_profile, errbuf, errlen);
                if (r == 0 && lang->compile_argv)
                        r = policy_add_profile(p, lang->compile_profile, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_load(const char *dir, Policy **ret, char *errbuf, size_t errlen)
{
        _cleanup_free_ Policy *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->dir = strdup(dir);
        if (!p->dir)
                return -ENOMEM;

        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/languages.json", dir) < 0)
                return -ENOMEM;
        char msg[512] = "";
        int r = language_registry_from_file(path, &p->languages, msg, sizeof msg);
        if (r < 0) {
                snprintf(errbuf, errlen, "%s: %s", path, msg[0] ? msg : strerror(-r));
                free(p->dir);
                return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

const char *const *policy_ro_mounts(Policy *p)
{
        if (p->ro_mounts)
                return (const char *const *)p->ro_mounts;
        size_t n = 0;
        for (size_t i = 0; i < p->languages->n_languages; i++)
                for (char **m = p->languages->languages[i].ro_mounts; m && *m; m++)
                        n++;
        p->ro_mounts = calloc(n + 1, sizeof *p->ro_mounts);
        if (!p->ro_mounts)
                return NULL;
        n = 0;
        for (size_t i = 0; i < p->languages->n_languages; i++)
                for (char **m = p->languages->languages[i].ro_mounts; m && *m; m++)
                        p->ro_mounts[n++] = *m; /* borrowed from the registry */
        return (const char *const *)p->ro_mounts;
}

Policy *policy_free(Policy *p)
{
        if (!p)
                return NULL;
        free(p->ro_mounts);
        for (size_t i = 0; i < p->n_profiles; i++)
                seccomp_program_free(p->profiles[i]);
        free(p->profiles);
        language_registry_free(p->languages);
        free(p->dir);
        free(p);
        return NULL;
}
