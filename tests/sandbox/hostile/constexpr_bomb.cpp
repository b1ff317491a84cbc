// Attack: constexpr evaluation bomb (a compile-time loop of 10^12 steps)
// Source: catalogue "template/constexpr bombs"
// Expect: COMPILE_ERROR (the compiler's own constexpr limits, or the compile time limit)
constexpr unsigned long spin(unsigned long n)
{
        unsigned long s = 0;
        for (unsigned long i = 0; i < n; i++)
                s += i ^ (s >> 3);
        return s;
}
constexpr unsigned long value = spin(1000000000000UL);
int main() { return (int)(value & 1); }
