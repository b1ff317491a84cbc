/* SPDX-License-Identifier: Apache-2.0 */
/* seccomp profiles in the OCI/Docker JSON format, compiled once into a BPF program. */
#pragma once

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SeccompProgram {
        struct sock_fprog fprog; /* filter points into owned memory */
        bool uses_notify;        /* the program returns SECCOMP_RET_USER_NOTIF for killing rules */
        char *name;              /* profile name, for messages */
} SeccompProgram;

enum {
        /* Translate SCMP_ACT_KILL / KILL_PROCESS / KILL_THREAD rules into SCMP_ACT_NOTIFY, so a
         * supervisor holding the listener fd learns the syscall, then kills the sandbox. */
        SECCOMP_PROFILE_KILL_VIA_NOTIFY = 1 << 0,
};

/* Compiles a parsed OCI profile for the native architecture. Always adds: non-native arch and x32
 * syscalls kill the process. Returns 0 and *ret (caller frees with seccomp_program_free), -EINVAL
 * with a message naming the offending field in errbuf, or -errno. */
int seccomp_program_from_json(const json_t *profile, const char *name, unsigned flags,
        SeccompProgram **ret, char *errbuf, size_t errlen);
/* Same from a file path (bounded read: 1 MiB, depth 32). */
int seccomp_program_from_file(const char *path, unsigned flags, SeccompProgram **ret, char *errbuf, size_t errlen);
SeccompProgram *seccomp_program_free(SeccompProgram *p);

/* Name of a native syscall number ("mount"), or NULL. */
const char *seccomp_syscall_name(int nr);
