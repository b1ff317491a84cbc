/* Attack: 1 GiB initialised static array: the assembler must write a 1 GiB object file
 * Source: catalogue Compile time "huge object files (int a[1<<28]={1};)"
 * Expect: COMPILE_ERROR (file-size or box-size limit of the compile step) */
int a[1 << 28] = {1};
int main(void) { return a[12345]; }
