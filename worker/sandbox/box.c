/* SPDX-License-Identifier: Apache-2.0 */
/* A job's writable /box. */
#include "box.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int box_new(int parent_fd, const char *parent_path, const char *name, uint64_t size_mb, uint64_t inodes,
        uid_t uid, gid_t gid, Box **ret)
{
        if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;

        _cleanup_free_ Box *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->dir_fd = -1;
        b->parent_fd = parent_fd;
        b->uid = uid;
        b->gid = gid;
        if (asprintf(&b->path, "%s/%s", parent_path, name) < 0) {
                b->path = NULL;
                return -ENOMEM;
        }
        b->name = strdup(name);
        if (!b->name) {
                free(b->path);
                return -ENOMEM;
        }

        if (mkdirat(parent_fd, name, 0700) < 0) {
                int r = -errno;
                free(b->path);
                free(b->name);
                return r;
        }

        char opts[128];
        snprintf(opts, sizeof opts, "size=%" PRIu64 "m,nr_inodes=%" PRIu64 ",mode=0755,uid=%u,gid=%u", size_mb,
                inodes, (unsigned)uid, (unsigned)gid);
        if (mount("sentinel-box", b->path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
                int r = -errno;
                unlinkat(parent_fd, name, AT_REMOVEDIR);
                free(b->path);
                free(b->name);
                return r;
        }

        b->dir_fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->dir_fd < 0) {
                int r = -errno;
                box_free(TAKE_PTR(b));
                return r;
        }
        *ret = TAKE_PTR(b);
        return 0;
}

int box_write_file(Box *b, const char *name, const void *data, size_t len, mode_t mode)
{
        if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;

        _cleanup_close_ int fd = openat(b->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        /* fchown/fchmod on the fd we created: never by path. */
        if (fchown(fd, b->uid, b->gid) < 0 || fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

Box *box_free(Box *b)
{
        if (!b)
                return NULL;
        safe_close(b->dir_fd);
        if (b->path) {
                /* MNT_DETACH: the tmpfs and everything in it goes when the last reference does.
                 * UMOUNT_NOFOLLOW: the mount point is ours, but never follow a link anyway. */
                if (umount2(b->path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 || errno == EINVAL)
                        unlinkat(b->parent_fd, b->name, AT_REMOVEDIR);
        }
        free(b->path);
        free(b->name);
        free(b);
        return NULL;
}
