/* Attack: never read a large stdin (the supervisor's writer must not deadlock), write a lot back
 * Source: catalogue Output: "a program that never reads stdin (pipe deadlock)"
 * Expect: ACCEPTED */
#include <stdio.h>
#include <string.h>

int main(void)
{
        char line[100];
        memset(line, 'w', sizeof line - 2);
        line[98] = '\n';
        line[99] = 0;
        for (int i = 0; i < 5000; i++)
                fputs(line, stdout);
        puts("DONE");
        return 0;
}
