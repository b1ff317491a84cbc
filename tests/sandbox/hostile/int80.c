/* Attack: 32-bit system call through int 0x80 on x86-64 (different numbers: 32-bit 1 = exit,
 * 20 = getpid; a filter that ignores seccomp_data.arch checks the wrong call)
 * Source: Sandbox2 TestAMD64SyscallMismatch; catalogue ABI confusion
 * Expect: SECURITY_VIOLATION (non-native ABI) */
#include <stdio.h>

int main(void)
{
        printf("TRYING int 0x80\n");
        fflush(stdout);
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        printf("ESCAPED int 0x80 getpid returned %ld\n", ret);
        return 0;
}
