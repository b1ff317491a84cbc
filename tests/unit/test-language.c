/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the language registry (common/language.c) and the shipped languages.json. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"
#include "cleanup.h"
#include "language.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(LanguageRegistry *, language_registry_free);

static const char *source_dir(void)
{
        const char *d = getenv("SENTINEL_SOURCE_DIR");
        return d && *d ? d : ".";
}

static bool strv_contains(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

static void test_shipped(void)
{
        _cleanup_free_ char *path = NULL;
        CHECK(asprintf(&path, "%s/sandbox-policies/languages.json", source_dir()) >= 0, "asprintf");
        char err[512] = "";
        _cleanup_(language_registry_freep) LanguageRegistry *reg = NULL;
        int r = language_registry_from_file(path, &reg, err, sizeof err);
        CHECK(r == 0, "%s: %s", path, err);
        if (r < 0)
                return;

        static const struct {
                const char *id;
                bool compiled;
        } expect[] = {
                {"python", false}, {"c", true}, {"cpp", true}, {"javascript", false}, {"java", true}, {"bash", false},
        };
        CHECK(reg->n_languages == ELEMENTSOF(expect), "%zu languages", reg->n_languages);
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                const Language *l = language_registry_find(reg, expect[i].id);
                CHECK(l, "%s missing", expect[i].id);
                if (!l)
                        continue;
                CHECK((l->compile_argv != NULL) == expect[i].compiled, "%s compiled", l->id);
                CHECK(l->run_argv && l->run_argv[0] && l->run_argv[0][0] == '/', "%s run argv", l->id);
                CHECK(strcmp(l->run_profile, "run") == 0, "%s run_profile %s", l->id, l->run_profile);
                CHECK(strcmp(l->compile_profile, "compile") == 0, "%s compile_profile %s", l->id,
                        l->compile_profile);
                CHECK(l->env && l->ro_mounts, "%s env/ro_mounts must be NULL-terminated arrays", l->id);
                CHECK(*l->name && *l->version && *l->source_file, "%s text fields", l->id);
        }
        const Language *py = language_registry_find(reg, "python");
        CHECK(py && strcmp(py->run_argv[0], "/usr/bin/python3") == 0, "python must be Debian's /usr/bin/python3");
        const Language *java = language_registry_find(reg, "java");
        CHECK(java && java->min_pids >= 24, "java min_pids %llu", java ? (unsigned long long)java->min_pids : 0);
        CHECK(java && strv_contains(java->ro_mounts, "/etc/java-17-openjdk"), "java ro_mounts");
        CHECK(!language_registry_find(reg, "cobol"), "unknown id found");
        CHECK(!language_registry_find(reg, NULL), "NULL id found");

        json_auto_t *j = language_registry_to_json(reg);
        CHECK(json_is_array(j) && json_array_size(j) == reg->n_languages, "to_json size");
        json_t *first = json_array_get(j, 0), *third = json_array_get(j, 2);
        CHECK(first && strcmp(json_string_value(json_object_get(first, "id")), "python") == 0, "to_json[0].id");
        CHECK(json_is_false(json_object_get(first, "compiled")), "python compiled");
        CHECK(json_is_true(json_object_get(third, "compiled")), "cpp compiled");
        CHECK(json_is_string(json_object_get(first, "name")) && json_is_string(json_object_get(first, "version")) &&
                        json_object_size(first) == 4,
                "to_json fields");

        /* Adding a language is one data entry plus one test program: every entry has its program. */
        for (size_t i = 0; i < reg->n_languages; i++) {
                const Language *l = &reg->languages[i];
                _cleanup_free_ char *prog = NULL;
                CHECK(asprintf(&prog, "%s/tests/langs/%s/%s", source_dir(), l->id, l->source_file) >= 0, "asprintf");
                CHECK(prog && access(prog, R_OK) == 0, "%s: no test program %s", l->id, prog);
        }
}

/* A valid single entry, the base that each bad case modifies. */
static json_t *base_entry(void)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:[s], s:{s:s}, s:[s], s:i}", "id", "x", "name", "X",
                "version", "1", "source_file", "main.x", "compile", "/usr/bin/xc", "main.x", "run", "/box/main",
                "env", "X_HOME", "/usr/lib/x", "ro_mounts", "/etc/x", "min_pids", 8);
}

static json_t *doc_of(json_t *entry)
{
        return json_pack("{s:[o]}", "languages", entry);
}

static int load_doc(json_t *doc, char *err, size_t errlen)
{
        LanguageRegistry *reg = NULL;
        err[0] = '\0';
        int r = language_registry_from_json(doc, &reg, err, errlen);
        CHECK((r == 0) == (reg != NULL), "ret written only on success (r=%d)", r);
        language_registry_free(reg);
        return r;
}

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);
        if (!s)
                abort();
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static void test_base(void)
{
        json_auto_t *doc = doc_of(base_entry());
        char err[512];
        _cleanup_(language_registry_freep) LanguageRegistry *reg = NULL;
        int r = language_registry_from_json(doc, &reg, err, sizeof err);
        CHECK(r == 0, "base entry rejected: %s", err);
        if (r < 0)
                return;
        const Language *l = &reg->languages[0];
        CHECK(l->env[0] && strcmp(l->env[0], "X_HOME=/usr/lib/x") == 0 && !l->env[1], "env as KEY=VALUE");
        CHECK(strcmp(l->compile_argv[1], "main.x") == 0 && !l->compile_argv[2], "compile argv copied");
        CHECK(l->min_pids == 8 && l->min_memory_kb == 0, "min_pids/min_memory_kb");

        /* Optional keys may be null or absent; env values may be empty. */
        json_t *e = base_entry();
        json_object_set_new(e, "compile", json_null());
        json_object_set_new(e, "env", json_pack("{s:s}", "EMPTY", ""));
        json_object_del(e, "ro_mounts");
        json_object_del(e, "min_pids");
        json_object_set_new(e, "run_profile", json_string("run-java_2"));
        json_auto_t *doc2 = doc_of(e);
        _cleanup_(language_registry_freep) LanguageRegistry *reg2 = NULL;
        r = language_registry_from_json(doc2, &reg2, err, sizeof err);
        CHECK(r == 0, "optional keys: %s", err);
        if (r == 0) {
                l = &reg2->languages[0];
                CHECK(!l->compile_argv && l->ro_mounts && !l->ro_mounts[0], "absent compile/ro_mounts");
                CHECK(strcmp(l->env[0], "EMPTY=") == 0, "empty env value");
                CHECK(strcmp(l->run_profile, "run-java_2") == 0, "run_profile");
        }
}

static void test_bad_entries(void)
{
        _cleanup_free_ char *id33 = repeat('a', 33), *arg4097 = repeat('a', 4097), *file65 = repeat('f', 65);
        _cleanup_free_ char *path4097 = repeat('p', 4097);
        path4097[0] = '/';
        _cleanup_free_ char *run4097 = strdup(path4097);

        json_auto_t *args65 = json_array(), *env33 = json_object(), *mounts17 = json_array();
        json_array_append_new(args65, json_string("/usr/bin/x"));
        for (int i = 1; i < 65; i++)
                json_array_append_new(args65, json_string("a"));
        for (int i = 0; i < 33; i++) {
                char k[16];
                snprintf(k, sizeof k, "K%d", i);
                json_object_set_new(env33, k, json_string("v"));
        }
        for (int i = 0; i < 17; i++)
                json_array_append_new(mounts17, json_string("/etc/x"));

        const struct {
                const char *key;
                json_t *value; /* NULL: delete the key */
                const char *expect;
        } cases[] = {
                {"id", json_string("Python"), "languages[0].id: must match"},
                {"id", json_string(""), "languages[0].id: must not be empty"},
                {"id", json_string(id33), "languages[0].id: longer than 32"},
                {"id", json_integer(5), "languages[0].id: must be a string"},
                {"id", json_string("a b"), "languages[0].id: must match"},
                {"id", NULL, "languages[0].id: must be a string"},
                {"name", json_integer(7), "languages[0] (\"x\").name: must be a string"},
                {"name", json_string("a\nb"), "(\"x\").name: must not contain control"},
                {"version", NULL, "(\"x\"): "},
                {"source_file", json_string("a/b"), "(\"x\").source_file: must be a plain file name"},
                {"source_file", json_string(".."), "(\"x\").source_file: must be a plain file name"},
                {"source_file", json_string("."), "(\"x\").source_file: must be a plain file name"},
                {"source_file", json_string(file65), "(\"x\").source_file: longer than 64"},
                {"run", json_array(), "(\"x\").run: must not be empty"},
                {"run", json_string("/bin/sh"), "(\"x\").run: must be an array"},
                {"run", json_pack("[s]", "python3"), "languages[0] (\"x\").run[0]: must be an absolute path"},
                {"run", json_pack("[s,i]", "/bin/x", 3), "(\"x\").run[1]: must be a string"},
                {"run", json_pack("[s,s]", "/bin/x", arg4097), "(\"x\").run[1]: longer than 4096"},
                {"run", json_pack("[s]", run4097), "(\"x\").run[0]: longer than 4096"},
                {"run", json_pack("[s]", "/usr/../bin/x"), "(\"x\").run[0]: must not contain \"..\""},
                {"run", json_incref(args65), "(\"x\").run: more than 64"},
                {"run", json_pack("[s#]", "/bin/x\0y", (int)8), "(\"x\").run[0]: must not contain NUL"},
                {"run", NULL, "(\"x\"): "},
                {"compile", json_pack("[s]", "gcc"), "(\"x\").compile[0]: must be an absolute path"},
                {"compile", json_object(), "(\"x\").compile: must be an array"},
                {"env", json_pack("{s:s}", "lower", "x"), "(\"x\").env: variable name \"lower\" must match"},
                {"env", json_pack("{s:s}", "1A", "x"), "(\"x\").env: variable name \"1A\" must match"},
                {"env", json_pack("{s:i}", "A", 1), "(\"x\").env.A: must be a string"},
                {"env", json_pack("{s:s}", "A", arg4097), "(\"x\").env.A: longer than 4096"},
                {"env", json_incref(env33), "(\"x\").env: more than 32"},
                {"env", json_pack("[s]", "A=1"), "(\"x\").env: must be an object"},
                {"ro_mounts", json_pack("[s]", "etc"), "(\"x\").ro_mounts[0]: must be an absolute path"},
                {"ro_mounts", json_pack("[s]", "/etc/../root"), "(\"x\").ro_mounts[0]: must not contain \"..\""},
                {"ro_mounts", json_pack("[s]", "/.."), "(\"x\").ro_mounts[0]: must not contain \"..\""},
                {"ro_mounts", json_pack("[s]", "/"), "(\"x\").ro_mounts[0]: must not be /"},
                {"ro_mounts", json_pack("[s]", "/box/lib"), "(\"x\").ro_mounts[0]: must not be /"},
                {"ro_mounts", json_pack("[s]", path4097), "(\"x\").ro_mounts[0]: longer than 4096"},
                {"ro_mounts", json_incref(mounts17), "(\"x\").ro_mounts: more than 16"},
                {"ro_mounts", json_string("/etc/x"), "(\"x\").ro_mounts: must be an array"},
                {"min_pids", json_integer(-1), "(\"x\").min_pids: must be an integer"},
                {"min_pids", json_string("3"), "(\"x\").min_pids: must be an integer"},
                {"min_pids", json_real(1.5), "(\"x\").min_pids: must be an integer"},
                {"min_memory_kb", json_integer(1LL << 40), "(\"x\").min_memory_kb: must be an integer"},
                {"run_profile", json_string("Bad!"), "(\"x\").run_profile: must match"},
                {"compile_profile", json_string(""), "(\"x\").compile_profile: must not be empty"},
                {"compile_profile", json_string("../x"), "(\"x\").compile_profile: must match"},
                {"unknown_key", json_true(), "unknown_key"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *e = base_entry();
                if (cases[i].value)
                        json_object_set_new(e, cases[i].key, cases[i].value);
                else
                        json_object_del(e, cases[i].key);
                json_auto_t *doc = doc_of(e);
                char err[512];
                int r = load_doc(doc, err, sizeof err);
                CHECK(r == -EINVAL, "case %zu (%s): r=%d", i, cases[i].key, r);
                CHECK(strstr(err, cases[i].expect), "case %zu (%s): message \"%s\" lacks \"%s\"", i, cases[i].key,
                        err, cases[i].expect);
        }

        /* The exact shape of a message. */
        json_t *e = base_entry();
        json_object_set_new(e, "run", json_pack("[s]", "main"));
        json_auto_t *doc = json_pack("{s:[o,o,o]}", "languages", json_pack("{s:s,s:s,s:s,s:s,s:[s]}", "id", "a",
                "name", "A", "version", "1", "source_file", "a", "run", "/a"), json_pack("{s:s,s:s,s:s,s:s,s:[s]}",
                "id", "b", "name", "B", "version", "1", "source_file", "b", "run", "/b"), e);
        char err[512];
        CHECK(load_doc(doc, err, sizeof err) == -EINVAL, "bad third entry accepted");
        CHECK(strcmp(err, "languages[2] (\"x\").run[0]: must be an absolute path") == 0, "message: %s", err);
}

static void test_bad_documents(void)
{
        char err[512];

        json_auto_t *dup = json_pack("{s:[o,o]}", "languages", base_entry(), base_entry());
        CHECK(load_doc(dup, err, sizeof err) == -EINVAL, "duplicate id accepted");
        CHECK(strstr(err, "languages[1] (\"x\").id: duplicates"), "duplicate: %s", err);

        json_auto_t *notobj = json_pack("{s:[s]}", "languages", "python");
        CHECK(load_doc(notobj, err, sizeof err) == -EINVAL, "string entry accepted");
        CHECK(strcmp(err, "languages[0]: must be an object") == 0, "string entry: %s", err);

        json_auto_t *arr = json_array();
        CHECK(load_doc(arr, err, sizeof err) == -EINVAL && strstr(err, "must be an object"), "array doc: %s", err);

        json_auto_t *missing = json_object();
        CHECK(load_doc(missing, err, sizeof err) == -EINVAL && strstr(err, "languages"), "no languages: %s", err);

        json_auto_t *extra = json_pack("{s:[o], s:i}", "languages", base_entry(), "extra", 1);
        CHECK(load_doc(extra, err, sizeof err) == -EINVAL && strstr(err, "extra"), "extra key: %s", err);

        json_auto_t *notarr = json_pack("{s:{}}", "languages");
        CHECK(load_doc(notarr, err, sizeof err) == -EINVAL && strstr(err, "languages: must be an array"), "%s", err);

        json_auto_t *empty = json_pack("{s:[]}", "languages");
        CHECK(load_doc(empty, err, sizeof err) == -EINVAL && strstr(err, "1 to 256"), "empty: %s", err);

        json_auto_t *many = json_pack("{s:[]}", "languages");
        for (int i = 0; i < 257; i++) {
                char id[16];
                snprintf(id, sizeof id, "l%d", i);
                json_t *e = base_entry();
                json_object_set_new(e, "id", json_string(id));
                json_array_append_new(json_object_get(many, "languages"), e);
        }
        CHECK(load_doc(many, err, sizeof err) == -EINVAL && strstr(err, "1 to 256"), "257 entries: %s", err);
        json_array_remove(json_object_get(many, "languages"), 0);
        CHECK(load_doc(many, err, sizeof err) == 0, "256 entries: %s", err);

        /* A tiny errbuf truncates, never overflows; a NULL one is allowed. */
        char tiny[8];
        json_auto_t *bad = json_pack("{s:[s]}", "languages", "python");
        LanguageRegistry *reg = NULL;
        CHECK(language_registry_from_json(bad, &reg, tiny, sizeof tiny) == -EINVAL && strlen(tiny) == 7, "tiny");
        CHECK(language_registry_from_json(bad, &reg, NULL, 0) == -EINVAL && !reg, "NULL errbuf");
}

static char *write_temp(const char *data, size_t len)
{
        char *path = strdup("/tmp/test-language-XXXXXX");
        int fd = path ? mkstemp(path) : -1;
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
                abort();
        close(fd);
        return path;
}

static void test_files(void)
{
        char err[512];
        LanguageRegistry *reg = NULL;
        CHECK(language_registry_from_file("/nonexistent/languages.json", &reg, err, sizeof err) == -ENOENT, "ENOENT");

        /* Over 1 MiB: refused before parsing. */
        size_t big = (1 << 20) + 16;
        _cleanup_free_ char *blob = repeat(' ', big);
        blob[0] = '{';
        blob[big - 1] = '}';
        _cleanup_free_ char *p1 = write_temp(blob, big);
        CHECK(language_registry_from_file(p1, &reg, err, sizeof err) == -EFBIG, "over 1 MiB: %s", err);
        unlink(p1);

        /* Deeper than 16. */
        const char *deep = "{\"languages\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}";
        _cleanup_free_ char *p2 = write_temp(deep, strlen(deep));
        CHECK(language_registry_from_file(p2, &reg, err, sizeof err) == -EINVAL && strstr(err, "deeper"), "%s", err);
        unlink(p2);

        const char *broken = "{\"languages\": [";
        _cleanup_free_ char *p3 = write_temp(broken, strlen(broken));
        CHECK(language_registry_from_file(p3, &reg, err, sizeof err) == -EINVAL && strchr(err, ':'), "%s", err);
        unlink(p3);
        CHECK(!reg, "ret written on failure");
}

int main(void)
{
        test_shipped();
        test_base();
        test_bad_entries();
        test_bad_documents();
        test_files();
        return test_summary();
}
