/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups: one interface, a v2 backend and a v1 backend, chosen at start.
 *
 * Only ever below the cgroup this process was given: the manager finds its own cgroup in
 * /proc/self/cgroup (or takes an explicit root), creates "sentinel-<pid>" below it, and one
 * child per slot below that. Slots are reused across jobs: prepare() resets limits and counters. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "result.h"

typedef enum CgroupVersion {
        CGROUP_V1 = 1,
        CGROUP_V2 = 2,
} CgroupVersion;

typedef struct CgroupManager CgroupManager;
typedef struct CgroupSlot CgroupSlot;

typedef struct CgroupStats {
        uint64_t cpu_us;         /* CPU time (user+system, all threads and children) since prepare */
        uint64_t memory_peak_kb; /* peak memory since prepare */
        bool oom_killed;         /* an OOM kill happened in the slot since prepare */
        bool pids_limited;       /* a fork/clone failed on pids.max since prepare (when readable) */
} CgroupStats;

typedef struct CgroupOptions {
        const char *sysfs_root;  /* "/sys/fs/cgroup"; tests point it at a fake tree */
        const char *proc_self_cgroup; /* "/proc/self/cgroup"; tests point it elsewhere */
        const char *root_override;    /* "" or NULL: our own cgroup; else a path inside the hierarchy */
        int force_version;       /* 0: detect; 1 or 2: use that backend */
        bool fake;               /* tests: no pid moves that need a real kernel */
        bool adopt_own;          /* v2: our cgroup is delegated to us (a service's): when other
                                  * processes in it block the controllers, move them along */
} CgroupOptions;

/* Detects the layout (v2 when cgroup2 at sysfs_root has memory+pids in cgroup.controllers; v1 when
 * memory, pids and cpuacct hierarchies exist), creates the manager's parent cgroup(s). On v2, moves
 * this process into a leaf "<own>/supervisor" first (no-internal-process rule) and enables
 * +memory +pids +cpu in subtree_control. Returns 0, -ENOTSUP when no usable layout, or -errno. */
int cgroup_manager_new(const CgroupOptions *opts, CgroupManager **ret);
/* Kills and removes every slot cgroup and the parent(s) it created. Accepts NULL. */
CgroupManager *cgroup_manager_free(CgroupManager *m);
CgroupVersion cgroup_manager_version(const CgroupManager *m);
/* Human description, e.g. "v1 memory:/a/b/sentinel-12 pids:/sentinel-12 cpuacct:/sentinel-12". */
const char *cgroup_manager_describe(const CgroupManager *m);

/* Creates slot `index` (mkdir "slot-<index>" below the parent). */
int cgroup_slot_new(CgroupManager *m, unsigned index, CgroupSlot **ret);
CgroupSlot *cgroup_slot_free(CgroupSlot *s); /* kills, then rmdir; accepts NULL */

/* Before a run: writes memory limit (and swap 0), pids.max, resets the peak and snapshots the CPU
 * and OOM counters so stats are per run. The slot must be empty. */
int cgroup_slot_prepare(CgroupSlot *s, const Limits *limits);

/* v2: an O_DIRECTORY fd of the slot for clone3(CLONE_INTO_CGROUP); -1 on v1. Owned by the slot. */
int cgroup_slot_clone_fd(const CgroupSlot *s);
/* fds (O_WRONLY|O_CLOEXEC) of the slot's cgroup.procs files, one per hierarchy: a freshly cloned
 * child writes "0" to each to enter the slot (used when clone_fd is -1). Owned by the slot.
 * Returns the count and sets *ret_fds. Writing "0" needs no allocation, so it is async-signal-safe. */
size_t cgroup_slot_procs_fds(const CgroupSlot *s, const int **ret_fds);

/* CPU time since prepare, one read: for the supervisor's CPU limit checks. */
int cgroup_slot_cpu_us(CgroupSlot *s, uint64_t *ret);
int cgroup_slot_stats(CgroupSlot *s, CgroupStats *ret);
/* SIGKILLs every process in the slot (v2: cgroup.kill; v1: freeze, kill each, thaw) and waits
 * until cgroup.procs is empty (bounded). Returns 0, or -EBUSY if processes remain. */
int cgroup_slot_kill(CgroupSlot *s);
/* True when no process is in the slot. */
bool cgroup_slot_is_empty(CgroupSlot *s);
