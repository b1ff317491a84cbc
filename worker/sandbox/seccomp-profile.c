/* SPDX-License-Identifier: Apache-2.0 */
/* seccomp profiles in the OCI/Docker JSON format, compiled once into a BPF program. */
#include "seccomp-profile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "json-util.h"

#define PROFILE_MAX_BYTES (1u << 20)
#define PROFILE_MAX_DEPTH 32
#define ERRNO_MAX 4095
#define ARG_MAX_INDEX 5
#define SYSCALL_NAME_MAX 64
#define X32_SYSCALL_BIT 0x40000000u
#define NAME_CACHE_SIZE 1024

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

typedef struct ActionInfo {
        const char *name;
        uint32_t action;  /* SCMP_ACT_* (ERRNO/TRACE without their data) */
        bool takes_errno; /* errnoRet is its data */
        bool kills;       /* becomes SCMP_ACT_NOTIFY under SECCOMP_PROFILE_KILL_VIA_NOTIFY */
} ActionInfo;

static const ActionInfo action_table[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false, true },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false, true },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false, true },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false, false },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true, false },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true, false },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false, false },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG, false, false },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false, false },
};

static const struct {
        const char *name;
        enum scmp_compare op;
} op_table[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE },
        { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE },
        { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

_printf_(3, 4) static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
        if (errbuf && errlen > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errbuf, errlen, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Profile strings end up in messages: only accept identifiers, so quoting them is safe. */
static bool is_identifier(const char *s, size_t max)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (n >= max || !(isalnum((unsigned char)s[n]) || s[n] == '_'))
                        return false;
        return n > 0;
}

/* Resolves an action string plus optional errnoRet into *ret_action; *ret_notify is set when the
 * result is SCMP_ACT_NOTIFY. field names the JSON object holding both, for messages. */
static int parse_action(json_t *action, json_t *errno_ret, const char *action_key, const char *errno_key,
        const char *field, unsigned flags, uint32_t *ret_action, bool *ret_notify, char *errbuf, size_t errlen)
{
        if (!json_is_string(action))
                return fail(errbuf, errlen, "%s%s: expected a string", field, action_key);
        const char *s = json_string_value(action);
        const ActionInfo *info = NULL;
        for (size_t i = 0; i < ELEMENTSOF(action_table); i++)
                if (strcmp(s, action_table[i].name) == 0)
                        info = &action_table[i];
        if (!info) {
                if (!is_identifier(s, SYSCALL_NAME_MAX))
                        return fail(errbuf, errlen, "%s%s: unknown action", field, action_key);
                return fail(errbuf, errlen, "%s%s: unknown action \"%s\"", field, action_key, s);
        }

        uint32_t act = info->action;
        if (errno_ret) {
                if (!info->takes_errno)
                        return fail(errbuf, errlen, "%s%s: not allowed with %s", field, errno_key, info->name);
                if (!json_is_integer(errno_ret))
                        return fail(errbuf, errlen, "%s%s: expected an integer", field, errno_key);
                json_int_t e = json_integer_value(errno_ret);
                if (e < 0 || e > ERRNO_MAX)
                        return fail(errbuf, errlen, "%s%s: %lld is outside 0..%d", field, errno_key, (long long)e,
                                ERRNO_MAX);
                act |= (uint32_t)e;
        } else if (info->action == SCMP_ACT_ERRNO(0))
                act |= EPERM; /* the OCI runtimes' default for a bare SCMP_ACT_ERRNO */

        if (info->kills && (flags & SECCOMP_PROFILE_KILL_VIA_NOTIFY))
                act = SCMP_ACT_NOTIFY;
        *ret_action = act;
        *ret_notify = act == SCMP_ACT_NOTIFY;
        return 0;
}

static int parse_integer(json_t *v, const char *field, const char *key, uint64_t min, uint64_t max,
        uint64_t *ret, char *errbuf, size_t errlen)
{
        /* jansson holds integers as signed 64-bit: values above INT64_MAX cannot be written. */
        if (!json_is_integer(v))
                return fail(errbuf, errlen, "%s.%s: expected an integer", field, key);
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
                return fail(errbuf, errlen, "%s.%s: %lld is out of range", field, key, (long long)i);
        *ret = (uint64_t)i;
        return 0;
}

static int parse_arg(json_t *arg, const char *field, struct scmp_arg_cmp *ret, char *errbuf, size_t errlen)
{
        json_t *index, *value, *value_two = NULL, *op;
        json_error_t e;
        if (json_unpack_ex(arg, &e, JSON_STRICT, "{s:o, s:o, s?o, s:o}", "index", &index, "value", &value,
                    "valueTwo", &value_two, "op", &op) < 0)
                return fail(errbuf, errlen, "%s: %s", field, e.text);

        uint64_t idx, a, b = 0;
        int r = parse_integer(index, field, "index", 0, ARG_MAX_INDEX, &idx, errbuf, errlen);
        if (r < 0)
                return r;
        r = parse_integer(value, field, "value", 0, INT64_MAX, &a, errbuf, errlen);
        if (r < 0)
                return r;
        if (value_two) {
                r = parse_integer(value_two, field, "valueTwo", 0, INT64_MAX, &b, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        if (!json_is_string(op))
                return fail(errbuf, errlen, "%s.op: expected a string", field);
        const char *s = json_string_value(op);
        for (size_t i = 0; i < ELEMENTSOF(op_table); i++)
                if (strcmp(s, op_table[i].name) == 0) {
                        /* For MASKED_EQ the OCI format has the mask in value, the datum in valueTwo,
                         * which is libseccomp's order too. */
                        *ret = (struct scmp_arg_cmp){
                                .arg = (unsigned)idx, .op = op_table[i].op, .datum_a = a, .datum_b = b };
                        return 0;
                }
        if (!is_identifier(s, SYSCALL_NAME_MAX))
                return fail(errbuf, errlen, "%s.op: unknown operator", field);
        return fail(errbuf, errlen, "%s.op: unknown operator \"%s\"", field, s);
}

/* includes/excludes select rules by capability, arch or kernel version; we have no such context,
 * so only an empty object is accepted. */
static int check_empty_filter(json_t *v, const char *field, const char *key, char *errbuf, size_t errlen)
{
        if (!v)
                return 0;
        if (!json_is_object(v))
                return fail(errbuf, errlen, "%s.%s: expected an object", field, key);
        if (json_object_size(v) > 0)
                return fail(errbuf, errlen, "%s.%s: conditional rules are not supported", field, key);
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t default_action, json_t *rule, size_t idx, unsigned flags,
        bool *uses_notify, char *errbuf, size_t errlen)
{
        char field[64];
        snprintf(field, sizeof field, "syscalls[%zu]", idx);

        json_t *names, *action, *errno_ret = NULL, *args = NULL, *comment = NULL, *includes = NULL,
                                 *excludes = NULL;
        json_error_t e;
        if (!json_is_object(rule))
                return fail(errbuf, errlen, "%s: expected an object", field);
        if (json_unpack_ex(rule, &e, JSON_STRICT, "{s:o, s:o, s?o, s?o, s?o, s?o, s?o}", "names", &names,
                    "action", &action, "errnoRet", &errno_ret, "args", &args, "comment", &comment, "includes",
                    &includes, "excludes", &excludes) < 0)
                return fail(errbuf, errlen, "%s: %s", field, e.text);

        if (comment && !json_is_string(comment))
                return fail(errbuf, errlen, "%s.comment: expected a string", field);
        int r = check_empty_filter(includes, field, "includes", errbuf, errlen);
        if (r < 0)
                return r;
        r = check_empty_filter(excludes, field, "excludes", errbuf, errlen);
        if (r < 0)
                return r;

        uint32_t act;
        bool notify;
        r = parse_action(action, errno_ret, ".action", ".errnoRet", field, flags, &act, &notify, errbuf, errlen);
        if (r < 0)
                return r;

        struct scmp_arg_cmp cmps[ARG_MAX_INDEX + 1];
        size_t n_args = 0;
        if (args) {
                if (!json_is_array(args))
                        return fail(errbuf, errlen, "%s.args: expected an array", field);
                n_args = json_array_size(args);
                if (n_args > ELEMENTSOF(cmps))
                        return fail(errbuf, errlen, "%s.args: more than %zu comparisons", field, ELEMENTSOF(cmps));
                for (size_t i = 0; i < n_args; i++) {
                        char sub[96];
                        snprintf(sub, sizeof sub, "%s.args[%zu]", field, i);
                        json_t *a = json_array_get(args, i);
                        if (!json_is_object(a))
                                return fail(errbuf, errlen, "%s: expected an object", sub);
                        r = parse_arg(a, sub, &cmps[i], errbuf, errlen);
                        if (r < 0)
                                return r;
                }
        }

        if (!json_is_array(names))
                return fail(errbuf, errlen, "%s.names: expected an array", field);
        if (json_array_size(names) == 0)
                return fail(errbuf, errlen, "%s.names: empty", field);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) {
                if (!json_is_string(n))
                        return fail(errbuf, errlen, "%s.names[%zu]: expected a string", field, i);
                const char *name = json_string_value(n);
                if (!is_identifier(name, SYSCALL_NAME_MAX))
                        return fail(errbuf, errlen, "%s.names[%zu]: not a syscall name", field, i);
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR)
                        return fail(errbuf, errlen, "%s.names[%zu]: unknown syscall \"%s\"", field, i, name);
                /* libseccomp refuses a rule that repeats the default action; it would be a no-op. */
                if (act == default_action)
                        continue;
                /* Names libseccomp knows that do not exist on this arch (negative pseudo numbers,
                 * e.g. vm86 on x86_64) cannot be called here: no code is needed for them. */
                if (nr < 0)
                        continue;
                r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n_args, cmps);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(errbuf, errlen, "%s.names[%zu]: cannot add a rule for \"%s\": %s", field, i,
                                name, strerror(-r));
                if (notify)
                        *uses_notify = true;
        }
        return 0;
}

/* Lower-case libseccomp name of an OCI "SCMP_ARCH_X86_64" string, or 0 if unknown. */
static uint32_t resolve_arch(const char *s)
{
        const char *prefix = "SCMP_ARCH_";
        if (strncmp(s, prefix, strlen(prefix)) != 0)
                return 0;
        s += strlen(prefix);
        char lower[32];
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof lower)
                return 0;
        for (size_t i = 0; i <= n; i++)
                lower[i] = (char)tolower((unsigned char)s[i]);
        return seccomp_arch_resolve_name(lower);
}

static int check_architectures(json_t *archs, char *errbuf, size_t errlen)
{
        if (!archs)
                return 0;
        if (!json_is_array(archs))
                return fail(errbuf, errlen, "architectures: expected an array");
        if (json_array_size(archs) == 0)
                return 0;
        bool native = false;
        size_t i;
        json_t *a;
        json_array_foreach(archs, i, a) {
                if (!json_is_string(a))
                        return fail(errbuf, errlen, "architectures[%zu]: expected a string", i);
                uint32_t token = resolve_arch(json_string_value(a));
                if (token == 0) {
                        if (!is_identifier(json_string_value(a), SYSCALL_NAME_MAX))
                                return fail(errbuf, errlen, "architectures[%zu]: unknown architecture", i);
                        return fail(errbuf, errlen, "architectures[%zu]: unknown architecture \"%s\"", i,
                                json_string_value(a));
                }
                if (token == seccomp_arch_native())
                        native = true;
        }
        /* Only the native arch is compiled; other arches are refused wholesale (badarch). */
        if (!native)
                return fail(errbuf, errlen, "architectures: the native architecture is not listed");
        return 0;
}

/* Writes the compiled filter to a memfd and reads it back into owned memory. */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *ret, char *errbuf, size_t errlen)
{
        _cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r == -ENOMEM ? r : fail(errbuf, errlen, "cannot compile the filter: %s", strerror(-r));
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return -errno;
        if (size == 0 || size % sizeof(struct sock_filter) != 0)
                return -EIO;
        size_t n = (size_t)size / sizeof(struct sock_filter);
        if (n > BPF_MAXINSNS)
                return fail(errbuf, errlen, "the profile compiles to %zu instructions, more than %d", n,
                        BPF_MAXINSNS);
        _cleanup_free_ struct sock_filter *insns = malloc((size_t)size);
        if (!insns)
                return -ENOMEM;
        size_t done = 0;
        while (done < (size_t)size) {
                ssize_t k = pread(fd, (char *)insns + done, (size_t)size - done, (off_t)done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                done += (size_t)k;
        }
        *ret = (struct sock_fprog){ .len = (unsigned short)n, .filter = TAKE_PTR(insns) };
        return 0;
}

/* libseccomp 2.5 already sends foreign arches and (when x32 is not in the filter) x32 numbers to
 * the badarch action. The guard does not depend on that: it is what makes an i386 `int 0x80`
 * (AUDIT_ARCH_I386) or an x32 call (nr | 0x40000000, same AUDIT_ARCH_X86_64) kill the process
 * whatever the libseccomp version. nr == -1 passes, as libseccomp lets it: the kernel answers
 * ENOSYS to it. Jumps in BPF are relative, so the exported program can follow unchanged. */
static int prepend_arch_guard(struct sock_fprog *prog, char *errbuf, size_t errlen)
{
#if defined(__x86_64__) && !defined(__ILP32__)
        const struct sock_filter guard[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4), /* seccomp_data.arch */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* seccomp_data.nr */
                BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 2),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UINT32_MAX, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        };
        size_t n = ELEMENTSOF(guard) + prog->len;
        if (n > BPF_MAXINSNS)
                return fail(errbuf, errlen, "the profile compiles to %zu instructions, more than %d", n,
                        BPF_MAXINSNS);
        struct sock_filter *f = malloc(n * sizeof *f);
        if (!f)
                return -ENOMEM;
        memcpy(f, guard, sizeof guard);
        memcpy(f + ELEMENTSOF(guard), prog->filter, prog->len * sizeof *f);
        free(prog->filter);
        *prog = (struct sock_fprog){ .len = (unsigned short)n, .filter = f };
#else
        (void)prog;
        (void)errbuf;
        (void)errlen;
#endif
        return 0;
}

SeccompProgram *seccomp_program_free(SeccompProgram *p)
{
        if (!p)
                return NULL;
        free(p->fprog.filter);
        free(p->name);
        free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProgram *, seccomp_program_free)

/* Validates an OCI seccomp profile and compiles it for the native architecture only. The filter
 * always kills the process for a foreign arch (i386 int 0x80 included) and for x32 syscall
 * numbers. With SECCOMP_PROFILE_KILL_VIA_NOTIFY, killing actions become SCMP_ACT_NOTIFY. The
 * profile is borrowed; name is copied. Returns 0 and *ret (free with seccomp_program_free),
 * -EINVAL with a message naming the offending field in errbuf, -ENOMEM, or another -errno. */
int seccomp_program_from_json(const json_t *profile, const char *name, unsigned flags, SeccompProgram **ret,
        char *errbuf, size_t errlen)
{
        if (errbuf && errlen > 0)
                errbuf[0] = '\0';
        if (!json_is_object(profile))
                return fail(errbuf, errlen, "profile: expected an object");

        json_t *default_action, *default_errno = NULL, *archs = NULL, *syscalls, *comment = NULL;
        json_error_t e;
        if (json_unpack_ex((json_t *)profile, &e, JSON_STRICT, "{s:o, s?o, s?o, s:o, s?o}", "defaultAction",
                    &default_action, "defaultErrnoRet", &default_errno, "architectures", &archs, "syscalls",
                    &syscalls, "comment", &comment) < 0)
                return fail(errbuf, errlen, "profile: %s", e.text);
        if (comment && !json_is_string(comment))
                return fail(errbuf, errlen, "comment: expected a string");
        int r = check_architectures(archs, errbuf, errlen);
        if (r < 0)
                return r;

        _cleanup_(seccomp_program_freep) SeccompProgram *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->name = strdup(name ? name : "");
        if (!p->name)
                return -ENOMEM;

        uint32_t def;
        bool def_notify;
        r = parse_action(default_action, default_errno, "defaultAction", "defaultErrnoRet", "", flags, &def,
                &def_notify, errbuf, errlen);
        if (r < 0)
                return r;
        p->uses_notify = def_notify;

        _cleanup_seccomp_ scmp_filter_ctx ctx = seccomp_init(def);
        if (!ctx)
                return fail(errbuf, errlen, "defaultAction: not supported by this kernel or libseccomp");
        /* The caller sets no_new_privs itself; the program is only exported, never loaded here. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return fail(errbuf, errlen, "libseccomp: cannot clear the no_new_privs attribute: %s",
                        strerror(-r));
        /* Any arch but the native one (i386 via int 0x80 included) kills. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return fail(errbuf, errlen, "libseccomp: SCMP_ACT_KILL_PROCESS is not supported: %s",
                        strerror(-r));

        /* A binary tree of syscall numbers instead of a linear list: every syscall of the program
         * runs this filter, so its depth is on the hot path (libseccomp >= 2.5). */
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

        if (!json_is_array(syscalls))
                return fail(errbuf, errlen, "syscalls: expected an array");
        size_t i;
        json_t *rule;
        json_array_foreach(syscalls, i, rule) {
                r = add_rule(ctx, def, rule, i, flags, &p->uses_notify, errbuf, errlen);
                if (r < 0)
                        return r;
        }

        r = export_program(ctx, &p->fprog, errbuf, errlen);
        if (r < 0)
                return r;
        r = prepend_arch_guard(&p->fprog, errbuf, errlen);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Reads a profile file (at most 1 MiB, nesting at most 32) and compiles it as
 * seccomp_program_from_json does; the program's name is the file's base name without ".json".
 * Returns 0 and *ret, -EINVAL/-EFBIG with a message in errbuf, or -errno. */
int seccomp_program_from_file(const char *path, unsigned flags, SeccompProgram **ret, char *errbuf, size_t errlen)
{
        if (errbuf && errlen > 0)
                errbuf[0] = '\0';
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        json_auto_t *j = NULL;
        int r = json_load_fd(fd, PROFILE_MAX_BYTES, PROFILE_MAX_DEPTH, &j, errbuf, errlen);
        if (r < 0)
                return r;

        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t len = strlen(base);
        if (len > 5 && strcmp(base + len - 5, ".json") == 0)
                len -= 5;
        _cleanup_free_ char *name = strndup(base, len);
        if (!name)
                return -ENOMEM;
        return seccomp_program_from_json(j, name, flags, ret, errbuf, errlen);
}

/* Names of native syscalls, resolved on first use and kept for the life of the process. Entries are
 * published with a compare-and-swap, so concurrent callers never see a freed string. */
static char *name_cache[NAME_CACHE_SIZE];

/* The libseccomp name of native syscall nr ("mount"), or NULL if unknown. The string is owned by
 * a process-wide cache and stays valid until exit; safe to call from several threads. */
const char *seccomp_syscall_name(int nr)
{
        if (nr < 0 || nr >= NAME_CACHE_SIZE)
                return NULL;
        char *cached = __atomic_load_n(&name_cache[nr], __ATOMIC_ACQUIRE);
        if (cached)
                return cached;
        char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (!s)
                return NULL;
        char *expected = NULL;
        if (!__atomic_compare_exchange_n(&name_cache[nr], &expected, s, false, __ATOMIC_ACQ_REL,
                    __ATOMIC_ACQUIRE)) {
                free(s);
                return expected;
        }
        return s;
}
