/* Attack: process_vm_readv() from pid 1's memory
 * Source: catalogue process_vm_readv|writev
 * Expect: SECURITY_VIOLATION (blocked system call: process_vm_readv) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/uio.h>
static char buf[64];
static struct iovec l = {buf, sizeof buf}, rv = {(void *)0x400000, sizeof buf};
int main(void)
{
        printf("TRYING process_vm_readv\n");
        fflush(stdout);
        long r = process_vm_readv(1, &l, 1, &rv, 1, 0);
        printf("%s process_vm_readv r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
