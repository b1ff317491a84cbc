/* Attack: read the kernel ring buffer with syslog(2)
 * Source: catalogue "syslog"; Docker default profile
 * Expect: SECURITY_VIOLATION (blocked system call: syslog) */
#include <stdio.h>
#include <sys/klog.h>

int main(void)
{
        char buf[4096];
        printf("TRYING syslog\n");
        fflush(stdout);
        int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf);
        printf("%s syslog returned %d\n", n > 0 ? "ESCAPED" : "BLOCKED", n);
        return 0;
}
