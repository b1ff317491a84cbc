/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: untrusted bytes through the JSON loader and the seccomp profile compiler. */
#include <stddef.h>
#include <stdint.h>

#include "json-util.h"
#include "seccomp-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The same bounds as seccomp_program_from_file. */
        if (size > (1u << 20))
                return 0;
        json_auto_t *j = NULL;
        char err[512];
        if (json_load_buffer((const char *)data, size, 32, &j, err, sizeof err) < 0)
                return 0;
        SeccompProgram *p = NULL;
        if (seccomp_program_from_json(j, "fuzz", 0, &p, err, sizeof err) == 0)
                seccomp_program_free(p);
        p = NULL;
        if (seccomp_program_from_json(j, "fuzz", SECCOMP_PROFILE_KILL_VIA_NOTIFY, &p, err, sizeof err) == 0)
                seccomp_program_free(p);
        return 0;
}
