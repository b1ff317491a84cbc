/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups, v1 backend: memory, pids and cpuacct hierarchies, one slot directory in each. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"

#define MEM     CGROUP_HIER_MEMORY
#define PIDS    CGROUP_HIER_PIDS
#define CPUACCT CGROUP_HIER_CPUACCT

static int v1_manager_setup(_unused_ CgroupManager *m)
{
        return 0;
}

static int v1_parent_setup(_unused_ CgroupManager *m)
{
        return 0;
}

static int v1_slot_setup(CgroupSlot *s)
{
        /* A new memory cgroup starts unlimited. Without swap accounting (no memsw files) the best
         * we can do against swapping is swappiness 0. */
        s->mem_limit = -1;
        s->memsw = s->m->fake || faccessat(s->dir_fd[MEM], "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
        if (!s->memsw) {
                int r = cg_write(s->m, s->dir_fd[MEM], "memory.swappiness", "0");
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* memory.memsw.limit_in_bytes (memory+swap) may never be below memory.limit_in_bytes: the kernel
 * refuses such a write with EINVAL. Both get the same value, so when raising memsw goes first and
 * when lowering it goes last. */
static int set_memory_limit(CgroupSlot *s, int64_t limit)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, limit);

        uint64_t now = s->mem_limit < 0 ? UINT64_MAX : (uint64_t)s->mem_limit;
        uint64_t want = limit < 0 ? UINT64_MAX : (uint64_t)limit;
        int r;
        if (want > now && s->memsw) {
                r = cg_slot_set(s, MEM, "memory.memsw.limit_in_bytes", buf);
                if (r < 0)
                        return r;
        }
        r = cg_slot_set(s, MEM, "memory.limit_in_bytes", buf);
        if (r < 0)
                return r;
        if (want <= now && s->memsw) {
                r = cg_slot_set(s, MEM, "memory.memsw.limit_in_bytes", buf);
                if (r < 0)
                        return r;
        }
        s->mem_limit = limit;
        return 0;
}

static int v1_slot_prepare(CgroupSlot *s, const Limits *limits)
{
        int r;

        int64_t limit = limits->memory_kb == 0 || limits->memory_kb > (uint64_t)INT64_MAX / 1024
                                ? -1
                                : (int64_t)(limits->memory_kb * 1024);
        r = set_memory_limit(s, limit);
        if (r < 0)
                return r;
        r = cg_slot_write(s, MEM, "memory.max_usage_in_bytes", "0");
        if (r < 0)
                return r;
        if (s->memsw) {
                r = cg_slot_write(s, MEM, "memory.memsw.max_usage_in_bytes", "0");
                if (r < 0)
                        return r;
        }

        char buf[32];
        if (limits->pids == 0)
                snprintf(buf, sizeof buf, "max");
        else
                snprintf(buf, sizeof buf, "%" PRIu64, limits->pids);
        r = cg_slot_set(s, PIDS, "pids.max", buf);
        if (r < 0)
                return r;

        r = cg_slot_read_u64(s, CPUACCT, "cpuacct.usage", &s->cpu_base);
        if (r < 0)
                return r;
        r = cg_slot_read_key(s, MEM, "memory.oom_control", "oom_kill", &s->oom_base);
        if (r < 0)
                return r;
        r = cg_slot_read_key(s, PIDS, "pids.events", "max", &s->pids_max_base);
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

static int v1_slot_cpu_us(CgroupSlot *s, uint64_t *ret)
{
        uint64_t ns;
        int r = cg_slot_read_u64(s, CPUACCT, "cpuacct.usage", &ns);
        if (r < 0)
                return r;
        *ret = ns > s->cpu_base ? (ns - s->cpu_base) / 1000 : 0;
        return 0;
}

static int v1_slot_stats(CgroupSlot *s, CgroupStats *ret)
{
        CgroupStats st = {};
        int r = v1_slot_cpu_us(s, &st.cpu_us);
        if (r < 0)
                return r;
        uint64_t v;
        r = cg_slot_read_u64(s, MEM, "memory.max_usage_in_bytes", &v);
        if (r < 0)
                return r;
        st.memory_peak_kb = v / 1024;
        /* "oom_kill N" in memory.oom_control (4.13+): kills in this cgroup, not just OOM events. */
        r = cg_slot_read_key(s, MEM, "memory.oom_control", "oom_kill", &v);
        if (r < 0)
                return r;
        st.oom_killed = v > s->oom_base;
        r = cg_slot_read_key(s, PIDS, "pids.events", "max", &v);
        if (r == 0)
                st.pids_limited = v > s->pids_max_base;
        *ret = st;
        return 0;
}

/* v1 has no cgroup.kill: SIGKILL what each hierarchy lists. A fork between the read and the kill
 * survives this round; cgroup_slot_kill() repeats until empty, and the launcher's pid namespace
 * (killing its init takes the tree down) is the primary mechanism anyway. */
static int v1_slot_signal_all(CgroupSlot *s)
{
        for (size_t i = 0; i < s->m->n_hier; i++) {
                int r = cg_kill_listed(s->m, s->dir_fd[i]);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

const CgroupBackend cgroup_backend_v1 = {
        .manager_setup = v1_manager_setup,
        .parent_setup = v1_parent_setup,
        .slot_setup = v1_slot_setup,
        .slot_prepare = v1_slot_prepare,
        .slot_cpu_us = v1_slot_cpu_us,
        .slot_stats = v1_slot_stats,
        .slot_signal_all = v1_slot_signal_all,
};
