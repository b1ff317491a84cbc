/* SPDX-License-Identifier: Apache-2.0 */
/* The language registry: sandbox-policies/languages.json, loaded and validated. */
#include "language.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json-util.h"

#define LANGUAGES_MAX 256
#define LANGUAGE_FILE_MAX_BYTES (1024 * 1024)
#define LANGUAGE_FILE_MAX_DEPTH 16
#define ID_MAX 32
#define TEXT_MAX 128 /* name, version */
#define SOURCE_FILE_MAX 64
#define ARGV_MAX 64
#define ARG_MAX_BYTES 4096
#define ENV_MAX 32
#define ENV_KEY_MAX 64
#define ENV_VALUE_MAX 4096
#define RO_MOUNTS_MAX 16
#define PATH_MAX_BYTES 4096
#define PROFILE_MAX 32
#define MIN_PIDS_MAX 32768          /* SENTINEL_MAX_PIDS' upper bound */
#define MIN_MEMORY_KB_MAX 67108864  /* SENTINEL_MAX_MEMORY_KB's upper bound */

/* Where in the document we are, for error messages. */
typedef struct Where {
        size_t index;
        const char *id; /* set once the id is validated, so it is safe to quote */
        char *errbuf;
        size_t errlen;
} Where;

/* Writes "languages[i] ("id").field: message" (field may carry its own [k] suffix). */
_printf_(3, 4) static int where_fail(const Where *w, const char *field, const char *fmt, ...)
{
        if (!w->errbuf || w->errlen == 0)
                return -EINVAL;
        int n = snprintf(w->errbuf, w->errlen, "languages[%zu]", w->index);
        if (n >= 0 && (size_t)n < w->errlen && w->id)
                n += snprintf(w->errbuf + n, w->errlen - (size_t)n, " (\"%s\")", w->id);
        if (n >= 0 && (size_t)n < w->errlen)
                n += snprintf(w->errbuf + n, w->errlen - (size_t)n, "%s%s: ", field[0] ? "." : "", field);
        if (n >= 0 && (size_t)n < w->errlen) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(w->errbuf + n, w->errlen - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* jansson's unpack errors, in the words of our other messages. */
static void unpack_error_text(const json_error_t *e, char *buf, size_t len)
{
        const char *unknown = strstr(e->text, "left unpacked: ");
        const char *missing = "Object item not found: ";
        if (unknown)
                snprintf(buf, len, "unknown key(s): %s", unknown + strlen("left unpacked: "));
        else if (strncmp(e->text, missing, strlen(missing)) == 0)
                snprintf(buf, len, "missing key: %s", e->text + strlen(missing));
        else
                snprintf(buf, len, "%s", e->text);
}

static char **strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
        return NULL;
}

static void language_done(Language *l)
{
        free(l->id);
        free(l->name);
        free(l->version);
        free(l->source_file);
        strv_free(l->compile_argv);
        strv_free(l->run_argv);
        strv_free(l->env);
        strv_free(l->ro_mounts);
        free(l->compile_profile);
        free(l->run_profile);
        *l = (Language){};
}

static bool chars_in(const char *s, const char *set_extra, bool lower, bool upper)
{
        for (; *s; s++) {
                char c = *s;
                if ((c >= '0' && c <= '9') || (lower && c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z'))
                        continue;
                if (!strchr(set_extra, c))
                        return false;
        }
        return true;
}

/* A string without NUL bytes (a json_t built in memory may hold them) of min..max bytes. */
static int get_string(const Where *w, const char *field, const json_t *j, size_t min, size_t max, const char **ret)
{
        if (!json_is_string(j))
                return where_fail(w, field, "must be a string");
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        if (strlen(s) != len)
                return where_fail(w, field, "must not contain NUL bytes");
        if (len < min)
                return where_fail(w, field, "must not be empty");
        if (len > max)
                return where_fail(w, field, "longer than %zu bytes", max);
        *ret = s;
        return 0;
}

/* Printable text for listings: no control characters. */
static int dup_text(const Where *w, const char *field, const json_t *j, size_t max, char **ret)
{
        const char *s;
        int r = get_string(w, field, j, 1, max, &s);
        if (r < 0)
                return r;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return where_fail(w, field, "must not contain control characters");
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int dup_profile(const Where *w, const char *field, const json_t *j, const char *def, char **ret)
{
        const char *s = def;
        if (j) {
                int r = get_string(w, field, j, 1, PROFILE_MAX, &s);
                if (r < 0)
                        return r;
                if (!chars_in(s, "_-", true, false))
                        return where_fail(w, field, "must match [a-z0-9_-]{1,%d}", PROFILE_MAX);
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool path_has_dotdot(const char *p)
{
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
                        return true;
        return false;
}

/* A non-empty argv array; argv[0] an absolute path. NULL-terminated copy in *ret. */
static int dup_argv(const Where *w, const char *field, const json_t *j, char ***ret)
{
        if (!json_is_array(j))
                return where_fail(w, field, "must be an array of strings");
        size_t n = json_array_size(j);
        if (n == 0)
                return where_fail(w, field, "must not be empty");
        if (n > ARGV_MAX)
                return where_fail(w, field, "more than %d arguments", ARGV_MAX);
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char f[64];
                snprintf(f, sizeof f, "%s[%zu]", field, i);
                const char *s;
                int r = get_string(w, f, json_array_get(j, i), 1, ARG_MAX_BYTES, &s);
                if (r == 0 && i == 0 && s[0] != '/')
                        r = where_fail(w, f, "must be an absolute path");
                if (r == 0 && i == 0 && path_has_dotdot(s))
                        r = where_fail(w, f, "must not contain \"..\"");
                if (r == 0 && !(v[i] = strdup(s)))
                        r = -ENOMEM;
                if (r < 0) {
                        strv_free(v);
                        return r;
                }
        }
        *ret = v;
        return 0;
}

/* {"KEY": "VALUE", ...} into "KEY=VALUE" strings. */
static int dup_env(const Where *w, const json_t *j, char ***ret)
{
        if (j && !json_is_object(j))
                return where_fail(w, "env", "must be an object of strings");
        size_t n = j ? json_object_size(j) : 0;
        if (n > ENV_MAX)
                return where_fail(w, "env", "more than %d variables", ENV_MAX);
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        size_t i = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)j, key, val) {
                int r = 0;
                if (strlen(key) > ENV_KEY_MAX || key[0] == '\0' || (key[0] >= '0' && key[0] <= '9') ||
                    !chars_in(key, "_", false, true))
                        r = where_fail(w, "env", "variable name \"%.64s\" must match [A-Z_][A-Z0-9_]* (at most %d bytes)",
                                key, ENV_KEY_MAX);
                char f[ENV_KEY_MAX + 16];
                snprintf(f, sizeof f, "env.%s", key);
                const char *s = NULL;
                if (r == 0 && json_is_string(val) && json_string_length(val) == 0)
                        s = ""; /* an empty value is a value */
                else if (r == 0)
                        r = get_string(w, f, val, 0, ENV_VALUE_MAX, &s);
                if (r == 0 && asprintf(&v[i], "%s=%s", key, s) < 0) {
                        v[i] = NULL;
                        r = -ENOMEM;
                }
                if (r < 0) {
                        strv_free(v);
                        return r;
                }
                i++;
        }
        *ret = v;
        return 0;
}

/* Paths the sandbox builds itself: a language may not bind over them. */
static bool path_is_reserved(const char *p)
{
        static const char *const reserved[] = {"/box", "/tmp", "/proc", "/dev", "/sys"};
        if (strcmp(p, "/") == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++) {
                size_t n = strlen(reserved[i]);
                if (strncmp(p, reserved[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
                        return true;
        }
        return false;
}

static int dup_ro_mounts(const Where *w, const json_t *j, char ***ret)
{
        if (j && !json_is_array(j))
                return where_fail(w, "ro_mounts", "must be an array of absolute paths");
        size_t n = j ? json_array_size(j) : 0;
        if (n > RO_MOUNTS_MAX)
                return where_fail(w, "ro_mounts", "more than %d paths", RO_MOUNTS_MAX);
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char f[32];
                snprintf(f, sizeof f, "ro_mounts[%zu]", i);
                const char *s;
                int r = get_string(w, f, json_array_get(j, i), 1, PATH_MAX_BYTES, &s);
                if (r == 0 && s[0] != '/')
                        r = where_fail(w, f, "must be an absolute path");
                if (r == 0 && path_has_dotdot(s))
                        r = where_fail(w, f, "must not contain \"..\"");
                if (r == 0 && path_is_reserved(s))
                        r = where_fail(w, f, "must not be /, nor lie under /box, /tmp, /proc, /dev or /sys");
                if (r == 0 && !(v[i] = strdup(s)))
                        r = -ENOMEM;
                if (r < 0) {
                        strv_free(v);
                        return r;
                }
        }
        *ret = v;
        return 0;
}

static int get_uint(const Where *w, const char *field, const json_t *j, uint64_t max, uint64_t *ret)
{
        if (!j) {
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(j) || json_integer_value(j) < 0 || (uint64_t)json_integer_value(j) > max)
                return where_fail(w, field, "must be an integer between 0 and %llu", (unsigned long long)max);
        *ret = (uint64_t)json_integer_value(j);
        return 0;
}

/* null counts as absent for the optional keys. */
static const json_t *nonnull(const json_t *j)
{
        return json_is_null(j) ? NULL : j;
}

static int language_parse(json_t *entry, Where *w, Language *l)
{
        json_t *id = NULL, *name = NULL, *version = NULL, *source_file = NULL, *compile = NULL, *run = NULL,
               *env = NULL, *ro_mounts = NULL, *min_pids = NULL, *min_memory_kb = NULL, *compile_profile = NULL,
               *run_profile = NULL;
        json_error_t e;

        if (!json_is_object(entry))
                return where_fail(w, "", "must be an object");

        /* The id first, so every later message can name the entry. */
        const char *s;
        int r = get_string(w, "id", json_object_get(entry, "id"), 1, ID_MAX, &s);
        if (r < 0)
                return r;
        if (!chars_in(s, "_+-", true, false))
                return where_fail(w, "id", "must match [a-z0-9_+-]{1,%d}", ID_MAX);
        if (!(l->id = strdup(s)))
                return -ENOMEM;
        w->id = l->id;

        /* The schema: every key typed "o" so the checks below can name the field in their message;
         * JSON_STRICT turns unknown keys into errors. */
        if (json_unpack_ex(entry, &e, JSON_STRICT, "{s:o, s:o, s:o, s:o, s?o, s:o, s?o, s?o, s?o, s?o, s?o, s?o}",
                    "id", &id, "name", &name, "version", &version, "source_file", &source_file, "compile", &compile,
                    "run", &run, "env", &env, "ro_mounts", &ro_mounts, "min_pids", &min_pids,
                    "min_memory_kb", &min_memory_kb, "compile_profile", &compile_profile,
                    "run_profile", &run_profile) < 0) {
                char text[JSON_ERROR_TEXT_LENGTH + 32];
                unpack_error_text(&e, text, sizeof text);
                return where_fail(w, "", "%s", text);
        }

        if ((r = dup_text(w, "name", name, TEXT_MAX, &l->name)) < 0 ||
            (r = dup_text(w, "version", version, TEXT_MAX, &l->version)) < 0)
                return r;

        if ((r = get_string(w, "source_file", source_file, 1, SOURCE_FILE_MAX, &s)) < 0)
                return r;
        if (strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return where_fail(w, "source_file", "must be a plain file name");
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return where_fail(w, "source_file", "must not contain control characters");
        if (!(l->source_file = strdup(s)))
                return -ENOMEM;

        if (nonnull(compile) && (r = dup_argv(w, "compile", compile, &l->compile_argv)) < 0)
                return r;
        if ((r = dup_argv(w, "run", run, &l->run_argv)) < 0 ||
            (r = dup_env(w, nonnull(env), &l->env)) < 0 ||
            (r = dup_ro_mounts(w, nonnull(ro_mounts), &l->ro_mounts)) < 0 ||
            (r = get_uint(w, "min_pids", nonnull(min_pids), MIN_PIDS_MAX, &l->min_pids)) < 0 ||
            (r = get_uint(w, "min_memory_kb", nonnull(min_memory_kb), MIN_MEMORY_KB_MAX, &l->min_memory_kb)) < 0 ||
            (r = dup_profile(w, "compile_profile", nonnull(compile_profile), "compile", &l->compile_profile)) < 0 ||
            (r = dup_profile(w, "run_profile", nonnull(run_profile), "run", &l->run_profile)) < 0)
                return r;
        return 0;
}

/* Among the first n languages, the one named id, or NULL. */
static const Language *registry_find_n(const LanguageRegistry *r, size_t n, const char *id)
{
        if (!r || !id)
                return NULL;
        for (size_t i = 0; i < n && i < r->n_languages; i++)
                if (r->languages[i].id && strcmp(r->languages[i].id, id) == 0)
                        return &r->languages[i];
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(LanguageRegistry *, language_registry_free);

/* Validates {"languages": [...]} and builds a registry the caller owns (language_registry_free).
 * Returns 0, -EINVAL with "languages[i] ("id").field: problem" in errbuf, or -ENOMEM. The
 * document is only read. */
int language_registry_from_json(const json_t *doc, LanguageRegistry **ret, char *errbuf, size_t errlen)
{
        json_t *list = NULL;
        json_error_t e;

        if (!json_is_object(doc)) {
                snprintf(errbuf, errlen, "document: must be an object {\"languages\": [...]}");
                return -EINVAL;
        }
        if (json_unpack_ex((json_t *)doc, &e, JSON_STRICT, "{s:o}", "languages", &list) < 0) {
                char text[JSON_ERROR_TEXT_LENGTH + 32];
                unpack_error_text(&e, text, sizeof text);
                snprintf(errbuf, errlen, "document: %s", text);
                return -EINVAL;
        }
        if (!json_is_array(list)) {
                snprintf(errbuf, errlen, "languages: must be an array");
                return -EINVAL;
        }
        size_t n = json_array_size(list);
        if (n == 0 || n > LANGUAGES_MAX) {
                snprintf(errbuf, errlen, "languages: must hold 1 to %d entries", LANGUAGES_MAX);
                return -EINVAL;
        }

        _cleanup_(language_registry_freep) LanguageRegistry *reg = calloc(1, sizeof *reg);
        if (!reg)
                return -ENOMEM;
        reg->languages = calloc(n, sizeof *reg->languages);
        if (!reg->languages)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                Where w = {.index = i, .errbuf = errbuf, .errlen = errlen};
                Language *l = &reg->languages[i];
                int r = language_parse(json_array_get(list, i), &w, l);
                reg->n_languages = i + 1; /* so the cleanup frees a half-built entry too */
                if (r < 0)
                        return r;
                if (registry_find_n(reg, i, l->id))
                        return where_fail(&w, "id", "duplicates an earlier entry");
        }
        *ret = TAKE_PTR(reg);
        return 0;
}

/* Reads path (at most 1 MiB, nesting at most 16) and validates it as above. Returns 0, -errno
 * from open/read, -EFBIG, or -EINVAL with a message in errbuf. */
int language_registry_from_file(const char *path, LanguageRegistry **ret, char *errbuf, size_t errlen)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                snprintf(errbuf, errlen, "cannot open: %s", strerror(-r));
                return r;
        }
        json_auto_t *doc = NULL;
        int r = json_load_fd(fd, LANGUAGE_FILE_MAX_BYTES, LANGUAGE_FILE_MAX_DEPTH, &doc, errbuf, errlen);
        if (r < 0)
                return r;
        return language_registry_from_json(doc, ret, errbuf, errlen);
}

/* Frees the registry and every language in it. Accepts NULL; returns NULL. */
LanguageRegistry *language_registry_free(LanguageRegistry *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_languages; i++)
                language_done(&r->languages[i]);
        free(r->languages);
        free(r);
        return NULL;
}

/* The language named id, or NULL. The pointer lives as long as the registry. */
const Language *language_registry_find(const LanguageRegistry *r, const char *id)
{
        return registry_find_n(r, r ? r->n_languages : 0, id);
}

/* [{id, name, version, compiled}] in file order; caller owns the reference. NULL on OOM. */
json_t *language_registry_to_json(const LanguageRegistry *r)
{
        json_auto_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; r && i < r->n_languages; i++) {
                const Language *l = &r->languages[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "id", l->id, "name", l->name, "version", l->version,
                        "compiled", l->compile_argv != NULL);
                if (!o || json_array_append_new(a, o) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}
