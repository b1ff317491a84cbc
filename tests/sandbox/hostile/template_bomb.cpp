// Attack: C++ template instantiation bomb (2^30 distinct instantiations)
// Source: QingdaoU cpp_meta; catalogue "template/constexpr bombs"
// Expect: COMPILE_ERROR within the compile limits (CPU, memory or wall)
template <int D, long N> struct T {
        static const long v = T<D - 1, 2 * N>::v + T<D - 1, 2 * N + 1>::v;
};
template <long N> struct T<0, N> {
        static const long v = N & 1;
};
int main() { return (int)T<30, 0>::v; }
