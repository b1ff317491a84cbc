/* SPDX-License-Identifier: Apache-2.0 */
/* How many CPUs this process may really use: the CPUs of its affinity mask, capped by a cgroup v2
 * CPU quota (cpu.max) on its cgroup or an ancestor, rounded up. In a container limited to 2 CPUs
 * on a 64-CPU host this is 2, where sysconf(_SC_NPROCESSORS_ONLN) says 64. The defaults of
 * SENTINEL_SLOTS and SENTINEL_API_THREADS follow it. */
#pragma once

/* At least 1. */
unsigned cpus_available(void);

/* The same from explicit inputs (for tests): affinity CPUs, and a cpu.max quota and period in
 * microseconds (quota 0: no quota). */
unsigned cpus_from(unsigned affinity, unsigned long long quota_us, unsigned long long period_us);
