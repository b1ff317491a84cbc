/* Attack: make the compiler include the host's process and mount information
 * Source: catalogue Compile time (#include of host files); /proc/self/mountinfo
 * Expect: COMPILE_ERROR; no host path or environment in compile_output */
#include "/proc/1/environ"
#include "/proc/self/mountinfo"
int main(void) { return 0; }
