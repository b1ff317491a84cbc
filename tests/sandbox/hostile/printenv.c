/* Attack: dump the environment to learn about the worker (secrets, paths, hosts)
 * Source: Judge0 issue #564 (printenv); udge pinfo; DOMjudge runguard clean-env test
 * Expect: ACCEPTED; only PATH, HOME, TMPDIR, LANG, LC_ALL, USER */
#include <stdio.h>

extern char **environ;

int main(void)
{
        for (char **e = environ; *e; e++)
                printf("ENV %s\n", *e);
        return 0;
}
