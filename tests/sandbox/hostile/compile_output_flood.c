/* Attack: flood the compiler's stderr: each level includes itself twice (2^200 errors)
 * Source: DOMjudge stress-test-compile-fill-stderr
 * Expect: COMPILE_ERROR with compile_output capped (64 KB) and the flag set */
#error flood flood flood flood flood flood flood flood flood flood flood flood flood flood
#include __FILE__
#include __FILE__
