/* SPDX-License-Identifier: Apache-2.0 */
/* Landlock. Constants are defined here because Debian 12's headers predate ABI 4-6. */
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */

struct ll_ruleset_attr {
        __u64 handled_access_fs;
        __u64 handled_access_net; /* ABI 4 */
        __u64 scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
        __u64 allowed_access;
        __s32 parent_fd;
} __attribute__((packed));

int landlock_abi(void)
{
        long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        return v < 0 ? 0 : (int)v;
}

static __u64 fs_rights_for_abi(int abi)
{
        __u64 all = (LL_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
        if (abi >= 2)
                all |= LL_FS_REFER;
        if (abi >= 3)
                all |= LL_FS_TRUNCATE;
        if (abi >= 5)
                all |= LL_FS_IOCTL_DEV;
        return all;
}

static int add_rules(int ruleset, const char *const *paths, __u64 access, __u64 handled)
{
        if (!paths)
                return 0;
        for (; *paths; paths++) {
                int fd = open(*paths, O_PATH | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                struct ll_path_beneath_attr pb = {.allowed_access = access & handled, .parent_fd = fd};
                long r = syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
                if (r < 0 && errno == EINVAL) {
                        /* A file, not a directory: directory-only rights are refused. */
                        pb.allowed_access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE |
                                LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
                        r = syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
                }
                int e = errno;
                close(fd);
                if (r < 0)
                        return -e;
        }
        return 0;
}

int landlock_restrict(int abi, const LandlockPolicy *p)
{
        if (abi <= 0)
                return -EOPNOTSUPP;

        __u64 handled = fs_rights_for_abi(abi);
        struct ll_ruleset_attr attr = {.handled_access_fs = handled};
        size_t size = sizeof(__u64); /* ABI 1-3 know only the fs field */
        if (abi >= 6) {
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
                size = sizeof attr;
        }

        int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
        if (ruleset < 0)
                return -errno;

        const __u64 read = LL_FS_READ_FILE | LL_FS_READ_DIR;
        const __u64 write = read | LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |
                LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER | LL_FS_TRUNCATE;
        const __u64 dev = read | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV | LL_FS_TRUNCATE;

        int r = add_rules(ruleset, p->read_paths, read, handled);
        if (r == 0)
                r = add_rules(ruleset, p->exec_paths, read | LL_FS_EXECUTE, handled);
        if (r == 0)
                r = add_rules(ruleset, p->write_paths, write, handled);
        if (r == 0)
                r = add_rules(ruleset, p->dev_paths, dev, handled);
        if (r == 0 && syscall(__NR_landlock_restrict_self, ruleset, 0) < 0)
                r = -errno;
        close(ruleset);
        return r;
}
