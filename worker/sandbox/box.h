/* SPDX-License-Identifier: Apache-2.0 */
/* A job's writable /box: a size-limited tmpfs the host only ever touches through a dirfd. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct Box {
        char *path;     /* mount point, in the launcher's private mount namespace */
        char *name;     /* entry below the runtime directory */
        int parent_fd;  /* the runtime boxes directory (borrowed) */
        int dir_fd;     /* the box's root, O_DIRECTORY */
        uid_t uid;
        gid_t gid;
} Box;

/* Creates <parent_path>/<name>, mounts a tmpfs of size_mb (nosuid, nodev, at most `inodes` inodes)
 * owned by uid:gid. parent_fd must refer to parent_path and stays owned by the caller. */
int box_new(int parent_fd, const char *parent_path, const char *name, uint64_t size_mb, uint64_t inodes,
        uid_t uid, gid_t gid, Box **ret);
/* Creates a new file `name` (a plain name, no '/') holding data, owned by the box's uid. Never follows
 * a symlink and never opens an existing file. */
int box_write_file(Box *b, const char *name, const void *data, size_t len, mode_t mode);
/* Detaches the tmpfs (its content vanishes with it: nothing inside is ever walked or followed) and
 * removes the empty mount point. Accepts NULL. */
Box *box_free(Box *b);
