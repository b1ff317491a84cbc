/* Attack: swapon() a file in /box
 * Source: catalogue swapon/off
 * Expect: SECURITY_VIOLATION (blocked system call: swapon) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/swap.h>
int main(void)
{
        printf("TRYING swapon\n");
        fflush(stdout);
        long r = swapon("/box/main", 0);
        printf("%s swapon r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
