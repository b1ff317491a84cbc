/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the box never follows what a program could have left, and cleans up by detaching. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "box.h"
#include "cleanup.h"

int main(void)
{
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                printf("skipped: needs root and a private mount namespace\n");
                return 77;
        }

        char tmpl[] = "/tmp/sentinel-test-box-XXXXXX";
        char *parent = mkdtemp(tmpl);
        CHECK(parent != NULL);
        _cleanup_close_ int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(parent_fd >= 0);

        /* A victim outside the box that a planted symlink points at. */
        char victim[256];
        snprintf(victim, sizeof victim, "%s/victim", parent);
        int vfd = open(victim, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(vfd >= 0 && write(vfd, "host", 4) == 4);
        close(vfd);

        Box *b = NULL;
        CHECK(box_new(parent_fd, parent, "b1", 4, 64, 60001, 60001, &b) == 0);
        CHECK(b != NULL);
        if (!b)
                return 1;

        struct stat st;
        CHECK(fstat(b->dir_fd, &st) == 0 && st.st_uid == 60001 && st.st_gid == 60001);

        /* A plain write creates the file with the box's owner. */
        CHECK(box_write_file(b, "main.py", "print(1)\n", 9, 0644) == 0);
        CHECK(fstatat(b->dir_fd, "main.py", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 60001 &&
                st.st_size == 9);
        /* Never overwrite what exists; names with a slash or dot-dot are refused. */
        CHECK(box_write_file(b, "main.py", "x", 1, 0644) == -EEXIST);
        CHECK(box_write_file(b, "../escape", "x", 1, 0644) == -EINVAL);
        CHECK(box_write_file(b, "..", "x", 1, 0644) == -EINVAL);
        CHECK(box_write_file(b, "", "x", 1, 0644) == -EINVAL);

        /* A symlink left in the box toward a host file is never followed. */
        CHECK(symlinkat(victim, b->dir_fd, "planted") == 0);
        CHECK(box_write_file(b, "planted", "pwned", 5, 0644) == -EEXIST);
        char buf[16] = "";
        int rfd = open(victim, O_RDONLY | O_CLOEXEC);
        CHECK(rfd >= 0 && read(rfd, buf, sizeof buf - 1) == 4 && strcmp(buf, "host") == 0);
        close(rfd);

        /* A FIFO left behind does not block anything either. */
        CHECK(mkfifoat(b->dir_fd, "fifo", 0644) == 0);
        CHECK(box_write_file(b, "fifo", "x", 1, 0644) == -EEXIST);

        /* The tmpfs is size-limited. */
        int big = openat(b->dir_fd, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CHECK(big >= 0);
        char chunk[65536];
        memset(chunk, 'x', sizeof chunk);
        ssize_t total = 0, n;
        while ((n = write(big, chunk, sizeof chunk)) > 0)
                total += n;
        CHECK(n < 0 && errno == ENOSPC);
        CHECK(total <= 4 * 1024 * 1024);
        close(big);

        /* Cleanup detaches: the mount point disappears, the victim and its link target stay intact. */
        char path[300];
        snprintf(path, sizeof path, "%s/b1", parent);
        box_free(b);
        CHECK(access(path, F_OK) < 0 && errno == ENOENT);
        CHECK(access(victim, F_OK) == 0);

        /* A box name with a slash is refused before anything is created. */
        CHECK(box_new(parent_fd, parent, "a/b", 4, 64, 60001, 60001, &b) == -EINVAL);

        unlink(victim);
        rmdir(parent);
        return test_summary();
}
