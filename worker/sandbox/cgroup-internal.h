/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups, private: the manager and slot objects, the backend vtable and the shared file helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

/* v1 uses three hierarchies (memory, pids, cpuacct); v2 one. */
#define CGROUP_HIER_MAX 3

typedef enum CgroupHierKind {
        CGROUP_HIER_MEMORY = 0,
        CGROUP_HIER_PIDS = 1,
        CGROUP_HIER_CPUACCT = 2,
        CGROUP_HIER_UNIFIED = 0,
} CgroupHierKind;

typedef struct CgroupHier {
        char *mount;   /* directory name below sysfs_root ("memory", "cpu,cpuacct"), "" for v2 */
        char *base;    /* cgroup path of the base ("/a/b"): our own cgroup or root_override */
        int base_fd;   /* O_DIRECTORY fd of the base */
        int parent_fd; /* O_DIRECTORY fd of "sentinel-<pid>" below the base */
} CgroupHier;

typedef struct CgroupBackend {
        /* After the bases are open: per-version preparation of the base (v2: supervisor leaf). */
        int (*manager_setup)(CgroupManager *m);
        /* After the parents are created (v2: subtree_control). */
        int (*parent_setup)(CgroupManager *m);
        /* After slot dirs are created and dir_fd/procs_fd opened: one-off settings, extra fds. */
        int (*slot_setup)(CgroupSlot *s);
        int (*slot_prepare)(CgroupSlot *s, const Limits *limits);
        int (*slot_cpu_us)(CgroupSlot *s, uint64_t *ret);
        int (*slot_stats)(CgroupSlot *s, CgroupStats *ret);
        /* Signals everything in the slot once (no waiting). */
        int (*slot_signal_all)(CgroupSlot *s);
} CgroupBackend;

struct CgroupManager {
        CgroupVersion version;
        const CgroupBackend *ops;
        bool fake;
        bool adopt_own; /* see CgroupOptions */
        bool base_is_own; /* v2: the base is our own cgroup, so we must leave it for a leaf */
        int peak_reset;   /* v2: does writing memory.peak reset it (6.12+)? -1 unknown, 0 no, 1 yes */
        pid_t pid;
        char parent_name[32]; /* "sentinel-<pid>" */
        CgroupHier hier[CGROUP_HIER_MAX];
        size_t n_hier;
        char *describe;
        CgroupSlot *slots; /* live slots, so free can remove them */
};

/* A control file the slot reads or writes on every run, kept open (see cg_slot_file()). */
typedef struct CgroupSlotFile {
        size_t hier;
        const char *name; /* a string literal */
        int flags;        /* O_RDONLY or O_WRONLY */
        int fd;           /* -1 until first used (always in fake mode) */
        char value[24];   /* a setting: the value cg_slot_set() last wrote, "" if unknown */
} CgroupSlotFile;

#define CGROUP_SLOT_FILES_MAX 12

struct CgroupSlot {
        CgroupManager *m;
        CgroupSlot *next;
        unsigned index;
        char name[24]; /* "slot-<index>" */
        int dir_fd[CGROUP_HIER_MAX];
        int procs_fd[CGROUP_HIER_MAX];
        bool used; /* prepared at least once */
        CgroupSlotFile files[CGROUP_SLOT_FILES_MAX];
        size_t n_files;

        /* v2 */
        int peak_fd;   /* memory.peak, O_RDWR if the kernel may reset it per fd */
        int events_fd; /* cgroup.events, polled for "populated 0" */

        /* v1 */
        int64_t mem_limit; /* last value written to memory.limit_in_bytes, -1 unlimited */
        bool memsw;        /* memory.memsw.* exist (swap accounting) */

        /* counters at prepare */
        uint64_t cpu_base;
        uint64_t oom_base;
        uint64_t pids_max_base;
};

extern const CgroupBackend cgroup_backend_v1;
extern const CgroupBackend cgroup_backend_v2;

/* Writes `value` to dirfd/file (fake mode: creates or truncates it). Returns 0 or -errno. */
int cg_write(const CgroupManager *m, int dirfd, const char *file, const char *value);
/* Reads the whole of dirfd/file into a NUL-terminated heap string. */
int cg_read(int dirfd, const char *file, char **ret);
/* Reads a file holding one unsigned number ("max" reads as UINT64_MAX). */
int cg_read_u64(const CgroupManager *m, int dirfd, const char *file, uint64_t *ret);
/* Reads the value of "key N" in a flat-keyed file (cpu.stat, memory.events, memory.oom_control).
 * A missing key reads as 0. In fake mode a missing file reads as 0 too. */
int cg_read_key(const CgroupManager *m, int dirfd, const char *file, const char *key, uint64_t *ret);
/* True when dirfd/cgroup.procs lists no process (a missing file counts as empty). */
bool cg_procs_empty(int dirfd);
/* SIGKILLs each pid listed in dirfd/cgroup.procs (never in fake mode). Returns how many were listed. */
int cg_kill_listed(const CgroupManager *m, int dirfd);
/* Removes the directory `name` below `dirfd`: first its "slot-*" children, killing what runs in
 * them, then itself. In fake mode regular files inside are unlinked first (a plain fs will not
 * rmdir a non-empty directory). */
int cg_remove_tree(const CgroupManager *m, int dirfd, const char *name);
/* Per-run control files of a slot (hier: CGROUP_HIER_*; name: a string literal), through fds kept
 * open from first use until the slot's directories go: an openat and a close per access were ~18
 * pairs per job on v1. Reading again from offset 0 renders a file afresh. In fake mode these are
 * cg_write(), cg_read_u64() and cg_read_key() on the directory. Not for cgroup.procs: v1 serves an
 * open cgroup.procs from a list cached for a second. */
int cg_slot_write(CgroupSlot *s, size_t hier, const char *name, const char *value);
int cg_slot_read_u64(CgroupSlot *s, size_t hier, const char *name, uint64_t *ret);
int cg_slot_read_key(CgroupSlot *s, size_t hier, const char *name, const char *key, uint64_t *ret);
/* A setting (a limit): written unless the file already holds `value`, written by us since the
 * slot's directories were created. cg_slot_write() is for actions (a counter's reset). */
int cg_slot_set(CgroupSlot *s, size_t hier, const char *name, const char *value);
/* Removes and recreates the slot's directories, reopening its fds (the slot must be empty). */
int cg_slot_recreate(CgroupSlot *s);
/* Reads a whole fd from offset 0 into a NUL-terminated heap string. */
int cg_read_fd(int fd, char **ret);
/* Parses one unsigned number ("max" is UINT64_MAX). */
int cg_parse_u64(const char *s, uint64_t *ret);
