/* SPDX-License-Identifier: Apache-2.0 */
#include "cpus.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

unsigned cpus_from(unsigned affinity, unsigned long long quota_us, unsigned long long period_us)
{
        unsigned n = affinity > 0 ? affinity : 1;
        if (quota_us > 0 && period_us > 0) {
                unsigned long long q = (quota_us + period_us - 1) / period_us;
                if (q < n)
                        n = (unsigned)(q > 0 ? q : 1);
        }
        return n;
}

/* The smallest cpu.max quota (as CPUs, scaled by period) along our cgroup v2 path. */
static void cgroup_quota(unsigned long long *ret_quota, unsigned long long *ret_period)
{
        *ret_quota = 0;
        *ret_period = 0;
        FILE *f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return;
        char line[PATH_MAX], path[PATH_MAX] = "";
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        snprintf(path, sizeof path, "%s", line + 3);
                        path[strcspn(path, "\n")] = '\0';
                }
        fclose(f);
        if (!*path)
                return;
        double best = 0;
        for (;;) {
                char file[PATH_MAX + 64];
                snprintf(file, sizeof file, "/sys/fs/cgroup%s/cpu.max", strcmp(path, "/") == 0 ? "" : path);
                FILE *m = fopen(file, "re");
                if (m) {
                        char q[32] = "";
                        unsigned long long period = 0;
                        if (fscanf(m, "%31s %llu", q, &period) == 2 && strcmp(q, "max") != 0 && period > 0) {
                                unsigned long long quota = strtoull(q, NULL, 10);
                                double cpus = (double)quota / (double)period;
                                if (quota > 0 && (best == 0 || cpus < best)) {
                                        best = cpus;
                                        *ret_quota = quota;
                                        *ret_period = period;
                                }
                        }
                        fclose(m);
                }
                char *slash = strrchr(path, '/');
                if (!slash || slash == path)
                        break;
                *slash = '\0';
        }
}

unsigned cpus_available(void)
{
        cpu_set_t set;
        unsigned affinity = 0;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
                affinity = (unsigned)CPU_COUNT(&set);
        if (affinity == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                affinity = n > 0 ? (unsigned)n : 1;
        }
        unsigned long long quota, period;
        cgroup_quota(&quota, &period);
        return cpus_from(affinity, quota, period);
}
