/* SPDX-License-Identifier: Apache-2.0 */
/* common/cpus.c: the CPUs a process may use (affinity, capped by a cgroup v2 quota). */
#include <unistd.h>

#include "cpus.h"
#include "test-util.h"

int main(void)
{
        CHECK(cpus_from(8, 0, 0) == 8);
        CHECK(cpus_from(8, 200000, 100000) == 2);      /* cpu.max "200000 100000": 2 CPUs */
        CHECK(cpus_from(8, 150000, 100000) == 2);      /* 1.5 rounds up */
        CHECK(cpus_from(8, 50000, 100000) == 1);       /* half a CPU: still one slot */
        CHECK(cpus_from(2, 800000, 100000) == 2);      /* the quota does not add CPUs */
        CHECK(cpus_from(0, 0, 0) == 1);
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned n = cpus_available();
        CHECK(n >= 1 && (long)n <= online, "%u of %ld", n, online);
        return test_summary();
}
