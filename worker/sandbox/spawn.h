/* SPDX-License-Identifier: Apache-2.0 */
/* Where a sandbox is born: clone into fresh namespaces, build the root, drop everything, exec.
 *
 * Process tree of one sandbox:
 *   launcher (host)
 *    └─ sandbox init (pid 1 of a new pid namespace; uid = slot uid; reaps, forwards SIGTERM, reports
 *       └─ program    the program's exit status over the sync socket, then exits: the kernel then
 *                     kills whatever else is left in the namespace)
 */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"

/* Messages on the sync socket (SOCK_SEQPACKET), child → launcher. EOF: init has exited. */
typedef enum SyncType {
        SYNC_SETUP_ERROR = 1, /* setup failed: errno + text; the sandbox never ran the program */
        SYNC_NOTIFY_FD = 2,   /* carries the seccomp listener fd (SCM_RIGHTS) */
        SYNC_EXECED = 3,      /* the program was started (init saw its exec succeed) */
        SYNC_EXIT = 4,        /* the program ended: wait status + its host-invisible rusage */
} SyncType;

typedef struct SyncMsg {
        int type;
        int error;  /* SYNC_SETUP_ERROR: positive errno */
        int status; /* SYNC_EXIT: wait status of the program */
        char text[200];
} SyncMsg;

/* What the host offers under the sandbox root, decided once at launcher start. */
typedef struct HostLayout {
        /* Top-level names that are symlinks on the host (usr-merged: bin -> usr/bin): recreated as
         * the same symlinks; the others among bin, sbin, lib, lib32, lib64, libx32 are bound
         * read-only when they exist. */
        char links[8][16];
        char link_targets[8][64];
        unsigned n_links;
        char binds[8][16]; /* "/lib64" */
        unsigned n_binds;
        int cap_last_cap;
        int landlock_abi;
} HostLayout;

typedef struct SpawnSpec {
        char *const *argv;
        char *const *envp;
        const char *const *ro_mounts;  /* extra host paths bound read-only at the same place */
        const HostLayout *layout;
        const char *root_path;         /* empty directory to build the root on (launcher's ns) */
        const char *dev_path;          /* prepared read-only /dev (spawn_prepare_dev) */
        const char *etc_path;          /* prepared read-only /etc of the slot (spawn_prepare_etc) */
        const char *box_path;          /* the job's box tmpfs (launcher's ns) */
        uid_t uid;
        gid_t gid;
        const Limits *limits;
        uint64_t tmp_size_mb;
        uint64_t nofile;
        uint64_t stack_mb;
        int netns_fd;                  /* pooled empty netns, or -1 for a fresh one */
        int cgroup_clone_fd;           /* v2: clone3(CLONE_INTO_CGROUP) target, or -1 */
        const int *cgroup_procs_fds;   /* else: the child writes "0" to each */
        size_t n_cgroup_procs_fds;
        const struct sock_fprog *seccomp; /* installed last, right before exec */
        bool seccomp_notify;           /* install with a listener and send it over the sync socket */
        int stdin_fd, stdout_fd, stderr_fd;
        int sync_fd;                   /* child end of the sync socketpair */
} SpawnSpec;

/* Fills the host layout (what / holds at top level, cap_last_cap, Landlock ABI). */
int spawn_detect_layout(HostLayout *ret);

/* Prepares, once per launcher, a read-only tmpfs at `path` holding the sandbox's /dev: null, zero,
 * full, random, urandom and the fd/stdin/stdout/stderr/shm links. Each sandbox binds it (one mount). */
int spawn_prepare_dev(const char *path);
/* Prepares at `path` (an existing empty directory) the /etc of a slot: passwd, group, hosts, and an
 * empty mount point for each of `mountpoints` that lies below /etc (a language's ro_mounts). */
int spawn_prepare_etc(const char *path, uid_t uid, gid_t gid, const char *const *mountpoints);

/* Marks the shared libraries this process maps, but for libc, the dynamic loader and a sanitizer's
 * runtime, as not to be copied into children (MADV_DONTFORK): the sandbox child runs only our code
 * and libc's, and copying a long-lived worker's libpq, OpenSSL, Kerberos... at every clone (and
 * tearing them down when the sandbox init exits) is a large part of what a clone costs. Only for
 * a process that forks nothing else through fork(3) (the libraries' atfork handlers would run in
 * the child) and whose binary is linked BIND_NOW (a lazily bound call in the child would search
 * those libraries' symbol tables); otherwise it does nothing. Returns the number of mappings
 * marked, or -errno. */
int spawn_trim_fork_mappings(void);

/* Clones the sandbox init. Returns its pid (>0) and a pidfd in *ret_pidfd, or -errno. The child
 * never returns; it reports setup failures over spec->sync_fd. Call only from a single-threaded
 * process (the launcher). */
pid_t spawn_sandbox(const SpawnSpec *spec, int *ret_pidfd);
