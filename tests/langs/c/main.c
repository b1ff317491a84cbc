/* SPDX-License-Identifier: Apache-2.0 */
/* Sentinel language test: the C toolchain compiles, links libm, and the program prints OK. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

int main(void)
{
        int v[] = {5, 3, 9, 1, 7};
        qsort(v, sizeof v / sizeof v[0], sizeof v[0], cmp);
        double h = hypot(3.0, 4.0);
        if (v[0] != 1 || v[4] != 9 || h < 4.999 || h > 5.001)
                return 1;
        printf("OK\n");
        return 0;
}
