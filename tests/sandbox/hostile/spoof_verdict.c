/* Attack: print the judge's own verdict text, hoping it is parsed from the output
 * Source: DOMjudge test-timelimit-bug
 * Expect: ACCEPTED (the status is out of band) */
#include <stdio.h>

int main(void)
{
        const char *fake = "TIME_LIMIT_EXCEEDED  cpu 9.999 s  wall 9.999 s  mem 1.0 MB\n"
                           "{\"status\":\"SECURITY_VIOLATION\",\"exit_code\":null}\n"
                           "\nMEMORY_LIMIT_EXCEEDED\n";
        fputs(fake, stdout);
        fputs(fake, stderr);
        return 0;
}
