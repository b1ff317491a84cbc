/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a libFuzzer corpus (files or directories given as arguments) through the harness, for
 * builds without libFuzzer: every corpus entry must run without crashing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rbe");
        if (!f)
                return -1;
        uint8_t *buf = malloc(1 << 20);
        if (!buf) {
                fclose(f);
                return -1;
        }
        size_t n = fread(buf, 1, 1 << 20, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        DIR *d = opendir(argv[i]);
                        struct dirent *de;
                        while (d && (de = readdir(d))) {
                                if (de->d_name[0] == '.')
                                        continue;
                                char p[4096];
                                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                                if (replay_file(p) == 0)
                                        count++;
                        }
                        if (d)
                                closedir(d);
                } else if (replay_file(argv[i]) == 0)
                        count++;
        }
        printf("replayed %u inputs\n", count);
        return count > 0 ? 0 : 1;
}
