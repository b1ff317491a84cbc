/* Attack: make the compiler read a host secret into its error messages
 * Source: catalogue Compile time: #include "/etc/shadow" (kjudge #82)
 * Expect: COMPILE_ERROR; no shadow line in compile_output */
#include "/etc/shadow"
int main(void) { return 0; }
