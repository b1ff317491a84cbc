/* Attack: plain busy loop
 * Source: udge busy; QingdaoU while1; CMS timeout-cputime
 * Expect: TIME_LIMIT_EXCEEDED with cpu_time >= the limit */
int main(void)
{
        for (volatile unsigned long i = 0;; i++)
                ;
}
