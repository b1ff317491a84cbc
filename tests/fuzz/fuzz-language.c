/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: bytes → json_load_buffer → language_registry_from_json (languages.json). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json-util.h"
#include "language.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses data as a languages.json document; everything it builds is freed again. Never fails:
 * the fuzzer looks for crashes, leaks and sanitizer reports, not for a verdict. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        json_t *doc = NULL;
        if (json_load_buffer((const char *)data, size, 16, &doc, err, sizeof err) < 0)
                return 0;

        LanguageRegistry *reg = NULL;
        if (language_registry_from_json(doc, &reg, err, sizeof err) == 0) {
                /* Walk what was accepted, as the worker would. */
                for (size_t i = 0; i < reg->n_languages; i++) {
                        const Language *l = &reg->languages[i];
                        if (language_registry_find(reg, l->id) != l)
                                __builtin_trap();
                }
                json_t *list = language_registry_to_json(reg);
                json_decref(list);
                language_registry_free(reg);
        } else if (reg || strlen(err) == 0)
                __builtin_trap(); /* a rejection always says why and writes no registry */
        json_decref(doc);
        return 0;
}
