/* Attack: make the compiler read an endless device
 * Source: QingdaoU gcc_random; kjudge #82
 * Expect: COMPILE_ERROR (or TIME_LIMIT_EXCEEDED): a bounded verdict, no hang */
#include "/dev/random"
int main(void) { return 0; }
