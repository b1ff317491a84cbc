/* Attack: bpf(BPF_PROG_LOAD) with an empty program
 * Source: Sandbox2 bpf testcase; catalogue bpf
 * Expect: SECURITY_VIOLATION (blocked system call: bpf) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        printf("TRYING bpf\n");
        fflush(stdout);
        long r = syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0);
        printf("%s bpf r=%ld errno=%d\n", r < 0 ? "BLOCKED" : "ESCAPED", r, r < 0 ? errno : 0);
        return 0;
}
