/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups, v2 backend: one unified hierarchy, a supervisor leaf, memory/pids/cpu per slot. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"

static int enable_controllers(const CgroupManager *m, int dirfd)
{
        int r = cg_write(m, dirfd, "cgroup.subtree_control", "+memory +pids +cpu");
        /* cpu is only for weights and cpu.max; usage_usec in cpu.stat is there without it. It can
         * be missing (not delegated) or refused (EINVAL while realtime threads run outside). */
        if (r == -EINVAL || r == -ENOENT || r == -EOPNOTSUPP)
                r = cg_write(m, dirfd, "cgroup.subtree_control", "+memory +pids");
        return r;
}

/* Moves every process of the cgroup dirfd into sfd (ESRCH: it exited meanwhile). */
static int move_all(const CgroupManager *m, int dirfd, int sfd)
{
        _cleanup_free_ char *procs = NULL;
        int r = cg_read(dirfd, "cgroup.procs", &procs);
        if (r < 0)
                return r;
        for (char *p = procs, *line; (line = strsep(&p, "\n"));) {
                if (!*line)
                        continue;
                r = cg_write(m, sfd, "cgroup.procs", line);
                if (r < 0 && r != -ESRCH)
                        return r;
        }
        return 0;
}

static int v2_manager_setup(CgroupManager *m)
{
        CgroupHier *h = &m->hier[CGROUP_HIER_UNIFIED];
        if (!m->base_is_own)
                return enable_controllers(m, h->base_fd);
        /* No internal processes: a cgroup that enables controllers for its children may not hold
         * processes itself (the root excepted), so we leave our own cgroup for a leaf first. */
        if (mkdirat(h->base_fd, "supervisor", 0755) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int sfd = openat(h->base_fd, "supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sfd < 0)
                return -errno;
        char pid[24];
        snprintf(pid, sizeof pid, "%d\n", (int)m->pid);
        int r = cg_write(m, sfd, "cgroup.procs", pid);
        if (r < 0)
                return r;
        r = enable_controllers(m, h->base_fd);
        /* Still busy: other processes hold our cgroup (the worker that forked the executor, a
         * wrapper such as timeout). A cgroup delegated to a service (systemd's Delegate=yes) or a
         * container's cgroup namespace root holds that service's processes only: with adopt_own
         * (sentinel-worker; never sentinel-run, which may run in someone's login session) they
         * follow us into the leaf. Not in the real root (no cgroup.type, no such rule). */
        if (r == -EBUSY && m->adopt_own && faccessat(h->base_fd, "cgroup.type", F_OK, 0) == 0) {
                r = move_all(m, h->base_fd, sfd);
                if (r >= 0)
                        r = enable_controllers(m, h->base_fd);
        }
        return r;
}

static int v2_parent_setup(CgroupManager *m)
{
        return enable_controllers(m, m->hier[CGROUP_HIER_UNIFIED].parent_fd);
}

static int v2_slot_setup(CgroupSlot *s)
{
        const CgroupManager *m = s->m;
        int dfd = s->dir_fd[0];
        /* The memory limit is the whole budget: no swap (the file is missing without swap
         * accounting), and an OOM kill takes the whole slot, not one victim. */
        int r = cg_write(m, dfd, "memory.swap.max", "0");
        if (r < 0 && r != -ENOENT)
                return r;
        r = cg_write(m, dfd, "memory.oom.group", "1");
        if (r < 0 && r != -ENOENT)
                return r;

        /* Since Linux 6.12 a write to memory.peak resets the peak seen through that fd. Older
         * kernels refuse the write (EINVAL; the open for writing may succeed for root), and then
         * prepare() recreates a used slot instead: a new cgroup starts with a zero peak. */
        s->peak_fd =
                openat(dfd, "memory.peak", O_RDWR | O_CLOEXEC | O_NOFOLLOW | (m->fake ? O_CREAT : 0), 0644);
        if (s->peak_fd < 0)
                s->peak_fd = openat(dfd, "memory.peak", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        s->events_fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        return 0;
}

static void limit_string(uint64_t v, uint64_t unit, char *buf, size_t len)
{
        if (v == 0 || v > UINT64_MAX / unit)
                snprintf(buf, len, "max");
        else
                snprintf(buf, len, "%" PRIu64, v * unit);
}

/* Returns true when the peak now counts from zero. */
static bool reset_peak(CgroupSlot *s)
{
        CgroupManager *m = s->m;
        if (m->peak_reset == 0 || s->peak_fd < 0)
                return false;
        if (m->fake && ftruncate(s->peak_fd, 0) < 0)
                return false;
        bool ok = RETRY_EINTR(pwrite(s->peak_fd, "0\n", 2, 0)) == 2;
        m->peak_reset = ok;
        return ok;
}

static int v2_slot_prepare(CgroupSlot *s, const Limits *limits)
{
        int r;

        /* A slot never used is fresh: its peak is that of this run either way. */
        if (!reset_peak(s) && s->used) {
                r = cg_slot_recreate(s);
                if (r < 0)
                        return r;
        }

        char buf[32];
        limit_string(limits->memory_kb, 1024, buf, sizeof buf);
        r = cg_slot_set(s, 0, "memory.max", buf);
        if (r < 0)
                return r;
        limit_string(limits->pids, 1, buf, sizeof buf);
        r = cg_slot_set(s, 0, "pids.max", buf);
        if (r < 0)
                return r;

        r = cg_slot_read_key(s, 0, "cpu.stat", "usage_usec", &s->cpu_base);
        if (r < 0)
                return r;
        r = cg_slot_read_key(s, 0, "memory.events", "oom_kill", &s->oom_base);
        if (r < 0)
                return r;
        r = cg_slot_read_key(s, 0, "pids.events", "max", &s->pids_max_base);
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

static int v2_slot_cpu_us(CgroupSlot *s, uint64_t *ret)
{
        uint64_t v;
        int r = cg_slot_read_key(s, 0, "cpu.stat", "usage_usec", &v);
        if (r < 0)
                return r;
        *ret = v > s->cpu_base ? v - s->cpu_base : 0;
        return 0;
}

static int v2_slot_stats(CgroupSlot *s, CgroupStats *ret)
{
        CgroupStats st = {};
        int r = v2_slot_cpu_us(s, &st.cpu_us);
        if (r < 0)
                return r;

        if (s->peak_fd >= 0) {
                _cleanup_free_ char *text = NULL;
                uint64_t peak = 0;
                r = cg_read_fd(s->peak_fd, &text);
                if (r < 0)
                        return r;
                if (text[0] && cg_parse_u64(text, &peak) == 0 && peak != UINT64_MAX)
                        st.memory_peak_kb = peak / 1024;
        }

        /* memory.events, not .local: the slot is a leaf, so both agree, and this one is older. */
        uint64_t v;
        r = cg_slot_read_key(s, 0, "memory.events", "oom_kill", &v);
        if (r < 0)
                return r;
        st.oom_killed = v > s->oom_base;
        r = cg_slot_read_key(s, 0, "pids.events", "max", &v);
        if (r == 0)
                st.pids_limited = v > s->pids_max_base;
        *ret = st;
        return 0;
}

static int v2_slot_signal_all(CgroupSlot *s)
{
        /* cgroup.kill (5.14+) kills the whole slot atomically, fork races included. */
        int r = cg_write(s->m, s->dir_fd[0], "cgroup.kill", "1");
        if (r == -ENOENT)
                r = cg_kill_listed(s->m, s->dir_fd[0]);
        return r < 0 ? r : 0;
}

const CgroupBackend cgroup_backend_v2 = {
        .manager_setup = v2_manager_setup,
        .parent_setup = v2_parent_setup,
        .slot_setup = v2_slot_setup,
        .slot_prepare = v2_slot_prepare,
        .slot_cpu_us = v2_slot_cpu_us,
        .slot_stats = v2_slot_stats,
        .slot_signal_all = v2_slot_signal_all,
};
