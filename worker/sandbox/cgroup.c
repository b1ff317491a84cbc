/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups: layout detection, the manager and slot lifecycles, and the file helpers both backends use. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"

#define READ_MAX     (16u << 20) /* cgroup.procs of a huge cgroup; nothing we read is near this */
#define KILL_ROUNDS  200         /* cgroup_slot_kill: rounds of signal-and-wait */
#define RMDIR_ROUNDS 200         /* an rmdir right after a kill can see EBUSY until the tasks are gone */

static const char *const cpuacct_mounts[] = {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"};

/* ---- file helpers ---- */

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        (void)RETRY_EINTR(nanosleep(&ts, &ts));
}

int cg_write(const CgroupManager *m, int dirfd, const char *file, const char *value)
{
        int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
        if (m->fake)
                flags |= O_CREAT | O_TRUNC;
        _cleanup_close_ int fd = openat(dirfd, file, flags, 0644);
        if (fd < 0)
                return -errno;
        size_t len = strlen(value);
        ssize_t n = RETRY_EINTR(write(fd, value, len));
        if (n < 0)
                return -errno;
        if ((size_t)n != len)
                return -EIO;
        return 0;
}

int cg_read_fd(int fd, char **ret)
{
        size_t alloc = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (alloc - len < 2) {
                        if (alloc >= READ_MAX)
                                return -EFBIG;
                        char *nb = realloc(buf, alloc * 2);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc *= 2;
                }
                ssize_t n = RETRY_EINTR(pread(fd, buf + len, alloc - len - 1, (off_t)len));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int cg_read(int dirfd, const char *file, char **ret)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return cg_read_fd(fd, ret);
}

int cg_parse_u64(const char *s, uint64_t *ret)
{
        while (*s == ' ' || *s == '\t')
                s++;
        if (strncmp(s, "max", 3) == 0 && (s[3] == '\0' || s[3] == '\n')) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (*s < '0' || *s > '9')
                return -EBADMSG;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end != '\0' && *end != '\n' && *end != ' ')
                return -EBADMSG;
        *ret = v;
        return 0;
}

int cg_read_u64(const CgroupManager *m, int dirfd, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dirfd, file, &s);
        if (r == -ENOENT && m->fake) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        if (m->fake && s[0] == '\0') {
                *ret = 0;
                return 0;
        }
        return cg_parse_u64(s, ret);
}

/* Finds "key value" in a flat-keyed text; a missing key is 0. */
static int keyed_value(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
                        return cg_parse_u64(p + klen + 1, ret);
        }
        *ret = 0;
        return 0;
}

int cg_read_key(const CgroupManager *m, int dirfd, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dirfd, file, &s);
        if (r == -ENOENT && m->fake) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return keyed_value(s, key, ret);
}

bool cg_procs_empty(int dirfd)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dirfd, "cgroup.procs", &s);
        if (r == -ENOENT)
                return true;
        if (r < 0)
                return false;
        for (const char *p = s; *p; p++)
                if (*p >= '1' && *p <= '9')
                        return false;
        return true;
}

int cg_kill_listed(const CgroupManager *m, int dirfd)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dirfd, "cgroup.procs", &s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        int n = 0;
        for (char *p = s; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                /* 0: a pid outside our pid namespace; never signal it (kill(0) is our group). */
                if (pid > 0) {
                        n++;
                        if (!m->fake)
                                (void)kill((pid_t)pid, SIGKILL);
                }
                p = end;
                while (*p == '\n')
                        p++;
        }
        return n;
}

/* Removes dirfd/name; at depth 0 also its "slot-*" children. */
static int remove_dir(const CgroupManager *m, int dirfd, const char *name, int depth)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;

        int dfd = dup(fd);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR && depth == 0 && strncmp(de->d_name, "slot-", 5) == 0) {
                        int k = remove_dir(m, fd, de->d_name, depth + 1);
                        if (k < 0 && r == 0)
                                r = k;
                } else if (m->fake && de->d_type == DT_REG)
                        (void)unlinkat(fd, de->d_name, 0);
        }
        closedir(d);

        for (int i = 0; !m->fake && i < KILL_ROUNDS; i++) {
                int n = cg_kill_listed(m, fd);
                if (n <= 0)
                        break;
                sleep_ms(1);
        }
        for (int i = 0;; i++) {
                if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return r;
                if (errno != EBUSY || i >= RMDIR_ROUNDS)
                        return -errno;
                sleep_ms(1);
        }
}

int cg_remove_tree(const CgroupManager *m, int dirfd, const char *name)
{
        return remove_dir(m, dirfd, name, 0);
}

/* ---- /proc/self/cgroup ---- */

static bool list_has(const char *list, size_t len, const char *word)
{
        size_t wl = strlen(word);
        for (const char *p = list; p < list + len;) {
                const char *c = memchr(p, ',', (size_t)(list + len - p));
                size_t l = c ? (size_t)(c - p) : (size_t)(list + len - p);
                if (l == wl && memcmp(p, word, wl) == 0)
                        return true;
                p += l + 1;
        }
        return false;
}

/* Finds the path of the hierarchy holding `controller` ("" for the v2 "0::" line). Every line must
 * be "N:list:/path"; anything else is -EBADMSG. Missing: -ENOTSUP. */
static int own_cgroup_path(const char *text, const char *controller, char **ret)
{
        for (const char *line = text; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                const char *next = nl ? nl + 1 : line + len;
                if (len == 0) {
                        line = next;
                        continue;
                }
                const char *c1 = memchr(line, ':', len);
                if (!c1 || c1 == line)
                        return -EBADMSG;
                for (const char *p = line; p < c1; p++)
                        if (*p < '0' || *p > '9')
                                return -EBADMSG;
                const char *c2 = memchr(c1 + 1, ':', (size_t)(line + len - c1 - 1));
                if (!c2 || c2 + 1 >= line + len || c2[1] != '/')
                        return -EBADMSG;
                const char *list = c1 + 1;
                size_t list_len = (size_t)(c2 - list);
                bool match = controller[0] ? list_has(list, list_len, controller)
                                           : (list_len == 0 && c1 - line == 1 && line[0] == '0');
                if (match) {
                        char *p = strndup(c2 + 1, (size_t)(line + len - c2 - 1));
                        if (!p)
                                return -ENOMEM;
                        *ret = p;
                        return 0;
                }
                line = next;
        }
        return -ENOTSUP;
}

/* An absolute cgroup path without "." or ".." components. */
static bool path_is_safe(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                const char *e = strchrnul(s, '/');
                size_t l = (size_t)(e - s);
                if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s = e;
        }
        return true;
}

/* ---- manager ---- */

static bool controllers_usable(int root_fd)
{
        _cleanup_free_ char *s = NULL;
        if (cg_read(root_fd, "cgroup.controllers", &s) < 0)
                return false;
        bool mem = false, pids = false;
        for (char *tok = s; *tok;) {
                size_t l = strcspn(tok, " \n");
                if (l == 6 && memcmp(tok, "memory", 6) == 0)
                        mem = true;
                if (l == 4 && memcmp(tok, "pids", 4) == 0)
                        pids = true;
                tok += l;
                tok += strspn(tok, " \n");
        }
        return mem && pids;
}

static bool is_dir_at(int dirfd, const char *name)
{
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static const char *v1_cpuacct_mount(int root_fd)
{
        for (size_t i = 0; i < ELEMENTSOF(cpuacct_mounts); i++)
                if (is_dir_at(root_fd, cpuacct_mounts[i]))
                        return cpuacct_mounts[i];
        return NULL;
}

/* Removes "sentinel-<pid>" directories below a base whose pid no longer runs: leftovers of a
 * crashed worker. Processes still inside are killed first. Best effort. */
static void clean_stale(const CgroupManager *m, int base_fd)
{
        int dfd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        DIR *d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || strncmp(de->d_name, "sentinel-", 9) != 0)
                        continue;
                const char *num = de->d_name + 9;
                char *end;
                errno = 0;
                long pid = strtol(num, &end, 10);
                if (errno || end == num || *end || num[0] < '1' || num[0] > '9' || pid > INT32_MAX)
                        continue;
                if (pid == m->pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                (void)cg_remove_tree(m, base_fd, de->d_name);
        }
        closedir(d);
}

static int build_describe(CgroupManager *m)
{
        size_t cap = 16;
        for (size_t i = 0; i < m->n_hier; i++)
                cap += strlen(m->hier[i].mount) + strlen(m->hier[i].base) + strlen(m->parent_name) + 8;
        m->describe = malloc(cap);
        if (!m->describe)
                return -ENOMEM;
        size_t off = (size_t)snprintf(m->describe, cap, "v%d", (int)m->version);
        for (size_t i = 0; i < m->n_hier; i++) {
                const CgroupHier *h = &m->hier[i];
                const char *sep = strcmp(h->base, "/") == 0 ? "" : "/";
                if (m->version == CGROUP_V2)
                        off += (size_t)snprintf(
                                m->describe + off, cap - off, " %s%s%s", h->base, sep, m->parent_name);
                else
                        off += (size_t)snprintf(m->describe + off, cap - off, " %s:%s%s%s", h->mount,
                                h->base, sep, m->parent_name);
        }
        return 0;
}

/* Detects the layout, finds our cgroup in each hierarchy, removes stale "sentinel-<pid>" trees of
 * dead pids, and creates ours (v2: after moving us into a leaf). The caller owns the manager.
 * Returns 0, -ENOTSUP (no usable layout, or our hierarchy missing from /proc/self/cgroup),
 * -EBADMSG (malformed /proc/self/cgroup), -EINVAL (bad options) or -errno. */
int cgroup_manager_new(const CgroupOptions *opts, CgroupManager **ret)
{
        static const CgroupOptions defaults = {};
        if (!opts)
                opts = &defaults;
        const char *sysfs_root = opts->sysfs_root && *opts->sysfs_root ? opts->sysfs_root : "/sys/fs/cgroup";
        const char *proc_path = opts->proc_self_cgroup && *opts->proc_self_cgroup ? opts->proc_self_cgroup
                                                                                  : "/proc/self/cgroup";
        const char *override = opts->root_override && *opts->root_override ? opts->root_override : NULL;
        if (override && !path_is_safe(override))
                return -EINVAL;
        if (opts->force_version != 0 && opts->force_version != 1 && opts->force_version != 2)
                return -EINVAL;

        _cleanup_close_ int root_fd = open(sysfs_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return errno == ENOENT ? -ENOTSUP : -errno;

        CgroupVersion version;
        const char *cpuacct = v1_cpuacct_mount(root_fd);
        bool v1_ok = is_dir_at(root_fd, "memory") && is_dir_at(root_fd, "pids") && cpuacct;
        if (opts->force_version)
                version = (CgroupVersion)opts->force_version;
        else if (controllers_usable(root_fd))
                version = CGROUP_V2;
        else if (v1_ok)
                version = CGROUP_V1;
        else
                return -ENOTSUP;
        if (version == CGROUP_V1 && !v1_ok)
                return -ENOTSUP;

        _cleanup_free_ char *self = NULL;
        _cleanup_close_ int self_fd = open(proc_path, O_RDONLY | O_CLOEXEC);
        if (self_fd < 0)
                return -errno;
        int r = cg_read_fd(self_fd, &self);
        if (r < 0)
                return r;

        CgroupManager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->version = version;
        m->ops = version == CGROUP_V2 ? &cgroup_backend_v2 : &cgroup_backend_v1;
        m->fake = opts->fake;
        m->adopt_own = opts->adopt_own;
        m->pid = getpid();
        m->peak_reset = -1;
        snprintf(m->parent_name, sizeof m->parent_name, "sentinel-%d", (int)m->pid);
        for (size_t i = 0; i < CGROUP_HIER_MAX; i++)
                m->hier[i].base_fd = m->hier[i].parent_fd = -1;

        static const char *const v1_controllers[] = {"memory", "pids", "cpuacct"};
        m->n_hier = version == CGROUP_V2 ? 1 : 3;
        for (size_t i = 0; i < m->n_hier; i++) {
                CgroupHier *h = &m->hier[i];
                const char *mount = version == CGROUP_V2       ? ""
                                    : i == CGROUP_HIER_CPUACCT ? cpuacct
                                                               : v1_controllers[i];
                h->mount = strdup(mount);
                if (!h->mount) {
                        r = -ENOMEM;
                        goto fail;
                }
                _cleanup_free_ char *own = NULL;
                r = own_cgroup_path(self, version == CGROUP_V2 ? "" : v1_controllers[i], &own);
                if (r < 0)
                        goto fail;
                if (!path_is_safe(own)) {
                        r = -EBADMSG;
                        goto fail;
                }
                /* A second manager in a process that an earlier one moved into "<own>/supervisor"
                 * works from <own>, as the first did. */
                size_t ol = strlen(own);
                if (version == CGROUP_V2 && !override && ol > 11 &&
                        strcmp(own + ol - 11, "/supervisor") == 0)
                        own[ol - 11] = '\0';
                if (own[0] == '\0') {
                        free(own);
                        own = strdup("/");
                        if (!own) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                if (version == CGROUP_V2)
                        m->base_is_own = !override || strcmp(override, own) == 0;
                h->base = strdup(override ? override : own);
                if (!h->base) {
                        r = -ENOMEM;
                        goto fail;
                }
                _cleanup_free_ char *rel = NULL;
                const char *b = h->base + strspn(h->base, "/");
                const char *sep = *h->mount && *b ? "/" : "";
                if (asprintf(&rel, "%s%s%s", h->mount, sep, *h->mount || *b ? b : ".") < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                h->base_fd = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (h->base_fd < 0) {
                        r = -errno;
                        goto fail;
                }
        }

        r = m->ops->manager_setup(m);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < m->n_hier; i++) {
                CgroupHier *h = &m->hier[i];
                clean_stale(m, h->base_fd);
                if (mkdirat(h->base_fd, m->parent_name, 0755) < 0) {
                        /* Ours by name: left by an earlier process with our pid. */
                        if (errno != EEXIST || cg_remove_tree(m, h->base_fd, m->parent_name) < 0 ||
                                mkdirat(h->base_fd, m->parent_name, 0755) < 0) {
                                r = errno == EEXIST ? -EEXIST : -errno;
                                goto fail;
                        }
                }
                h->parent_fd =
                        openat(h->base_fd, m->parent_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (h->parent_fd < 0) {
                        r = -errno;
                        (void)unlinkat(h->base_fd, m->parent_name, AT_REMOVEDIR);
                        goto fail;
                }
        }

        r = m->ops->parent_setup(m);
        if (r < 0)
                goto fail;
        r = build_describe(m);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        cgroup_manager_free(m);
        return r;
}

/* Frees the slots still alive (kill, rmdir), removes the parents; the v2 supervisor leaf stays, we
 * live there. Returns NULL. */
CgroupManager *cgroup_manager_free(CgroupManager *m)
{
        if (!m)
                return NULL;
        while (m->slots)
                cgroup_slot_free(m->slots);
        for (size_t i = 0; i < m->n_hier; i++) {
                CgroupHier *h = &m->hier[i];
                if (h->parent_fd >= 0) {
                        safe_close(h->parent_fd);
                        (void)cg_remove_tree(m, h->base_fd, m->parent_name);
                }
                safe_close(h->base_fd);
                free(h->mount);
                free(h->base);
        }
        free(m->describe);
        free(m);
        return NULL;
}

/* The backend in use. */
CgroupVersion cgroup_manager_version(const CgroupManager *m)
{
        return m->version;
}

/* The cgroups in use, for logs; owned by the manager. */
const char *cgroup_manager_describe(const CgroupManager *m)
{
        return m->describe ? m->describe : "";
}

/* ---- slots ---- */

static void slot_close(CgroupSlot *s)
{
        for (size_t i = 0; i < CGROUP_HIER_MAX; i++) {
                s->dir_fd[i] = safe_close(s->dir_fd[i]);
                s->procs_fd[i] = safe_close(s->procs_fd[i]);
        }
        for (size_t i = 0; i < s->n_files; i++)
                safe_close(s->files[i].fd);
        s->n_files = 0; /* and the values written: a new directory has its defaults */
        s->peak_fd = safe_close(s->peak_fd);
        s->events_fd = safe_close(s->events_fd);
}

/* The slot's entry for a per-run control file, added on first use (its fd is opened lazily). */
static CgroupSlotFile *slot_entry(CgroupSlot *s, size_t hier, const char *name, int flags)
{
        for (size_t i = 0; i < s->n_files; i++)
                if (s->files[i].hier == hier && s->files[i].flags == flags && strcmp(s->files[i].name, name) == 0)
                        return &s->files[i];
        if (s->n_files >= ELEMENTSOF(s->files))
                return NULL; /* the backends use a fixed set of files: a bug, and tests see it */
        s->files[s->n_files] = (CgroupSlotFile){.hier = hier, .name = name, .flags = flags, .fd = -1};
        return &s->files[s->n_files++];
}

/* The slot's fd of a per-run control file, opened on first use. Returns a borrowed fd or -errno. */
static int cg_slot_file(CgroupSlot *s, size_t hier, const char *name, int flags)
{
        CgroupSlotFile *f = slot_entry(s, hier, name, flags);
        if (!f)
                return -ENOBUFS;
        if (f->fd < 0) {
                f->fd = openat(s->dir_fd[hier], name, flags | O_CLOEXEC | O_NOFOLLOW);
                if (f->fd < 0)
                        return -errno;
        }
        return f->fd;
}

int cg_slot_write(CgroupSlot *s, size_t hier, const char *name, const char *value)
{
        if (s->m->fake)
                return cg_write(s->m, s->dir_fd[hier], name, value);
        int fd = cg_slot_file(s, hier, name, O_WRONLY);
        if (fd < 0)
                return fd;
        size_t len = strlen(value);
        ssize_t n = RETRY_EINTR(pwrite(fd, value, len, 0));
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

int cg_slot_set(CgroupSlot *s, size_t hier, const char *name, const char *value)
{
        CgroupSlotFile *f = slot_entry(s, hier, name, O_WRONLY);
        if (!f)
                return -ENOBUFS;
        if (strcmp(f->value, value) == 0)
                return 0;
        f->value[0] = '\0'; /* unknown until the write succeeds */
        int r = cg_slot_write(s, hier, name, value);
        if (r == 0)
                snprintf(f->value, sizeof f->value, "%s", value);
        return r;
}

/* The current text of a per-run control file (see cg_slot_file()). */
static int cg_slot_read(CgroupSlot *s, size_t hier, const char *name, char **ret)
{
        int fd = cg_slot_file(s, hier, name, O_RDONLY);
        return fd < 0 ? fd : cg_read_fd(fd, ret);
}

int cg_slot_read_u64(CgroupSlot *s, size_t hier, const char *name, uint64_t *ret)
{
        if (s->m->fake)
                return cg_read_u64(s->m, s->dir_fd[hier], name, ret);
        _cleanup_free_ char *text = NULL;
        int r = cg_slot_read(s, hier, name, &text);
        return r < 0 ? r : cg_parse_u64(text, ret);
}

int cg_slot_read_key(CgroupSlot *s, size_t hier, const char *name, const char *key, uint64_t *ret)
{
        if (s->m->fake)
                return cg_read_key(s->m, s->dir_fd[hier], name, key, ret);
        _cleanup_free_ char *text = NULL;
        int r = cg_slot_read(s, hier, name, &text);
        return r < 0 ? r : keyed_value(text, key, ret);
}

/* Creates the slot's directories (replacing leftovers) and opens its fds. */
static int slot_open(CgroupSlot *s)
{
        const CgroupManager *m = s->m;
        for (size_t i = 0; i < m->n_hier; i++) {
                int pfd = m->hier[i].parent_fd;
                if (mkdirat(pfd, s->name, 0755) < 0) {
                        if (errno != EEXIST)
                                return -errno;
                        int r = cg_remove_tree(m, pfd, s->name);
                        if (r < 0)
                                return r;
                        if (mkdirat(pfd, s->name, 0755) < 0)
                                return -errno;
                }
                s->dir_fd[i] = openat(pfd, s->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (s->dir_fd[i] < 0)
                        return -errno;
                s->procs_fd[i] = openat(s->dir_fd[i], "cgroup.procs",
                        O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (m->fake ? O_CREAT : 0), 0644);
                if (s->procs_fd[i] < 0)
                        return -errno;
        }
        return m->ops->slot_setup(s);
}

static int slot_remove_dirs(CgroupSlot *s)
{
        int r = 0;
        slot_close(s);
        for (size_t i = 0; i < s->m->n_hier; i++) {
                int k = cg_remove_tree(s->m, s->m->hier[i].parent_fd, s->name);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

int cg_slot_recreate(CgroupSlot *s)
{
        int r = slot_remove_dirs(s);
        if (r < 0)
                return r;
        return slot_open(s);
}

/* Creates "slot-<index>" in each hierarchy (replacing a leftover) with its fds open. The slot is
 * the caller's, freed with cgroup_slot_free() before the manager. Returns 0, -EEXIST when the
 * manager already has slot `index`, or -errno. */
int cgroup_slot_new(CgroupManager *m, unsigned index, CgroupSlot **ret)
{
        for (CgroupSlot *o = m->slots; o; o = o->next)
                if (o->index == index)
                        return -EEXIST;
        CgroupSlot *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->m = m;
        s->index = index;
        snprintf(s->name, sizeof s->name, "slot-%u", index);
        for (size_t i = 0; i < CGROUP_HIER_MAX; i++)
                s->dir_fd[i] = s->procs_fd[i] = -1;
        s->peak_fd = s->events_fd = -1;
        s->mem_limit = -1;
        s->next = m->slots;
        m->slots = s;

        int r = slot_open(s);
        if (r < 0) {
                cgroup_slot_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* Kills what runs in the slot, removes its directories and frees it. Returns NULL. */
CgroupSlot *cgroup_slot_free(CgroupSlot *s)
{
        if (!s)
                return NULL;
        (void)cgroup_slot_kill(s);
        (void)slot_remove_dirs(s);
        for (CgroupSlot **p = &s->m->slots; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        free(s);
        return NULL;
}

/* Sets the limits of the next run and snapshots the counters stats are relative to. The fds
 * from cgroup_slot_clone_fd()/cgroup_slot_procs_fds() must be fetched after this call (a v2 slot
 * on a kernel before 6.12 is recreated to reset its peak). Returns 0, -EBUSY when the slot is not
 * empty, or -errno. */
int cgroup_slot_prepare(CgroupSlot *s, const Limits *limits)
{
        if (!s->m->fake && !cgroup_slot_is_empty(s))
                return -EBUSY;
        int r = s->m->ops->slot_prepare(s, limits);
        if (r < 0)
                return r;
        s->used = true;
        return 0;
}

/* The slot directory for clone3(CLONE_INTO_CGROUP) on v2, -1 on v1; owned by the slot. */
int cgroup_slot_clone_fd(const CgroupSlot *s)
{
        return s->m->version == CGROUP_V2 ? s->dir_fd[0] : -1;
}

/* The cgroup.procs fds (one per hierarchy) a new child writes "0" to; owned by the slot. */
size_t cgroup_slot_procs_fds(const CgroupSlot *s, const int **ret_fds)
{
        *ret_fds = s->procs_fd;
        return s->m->n_hier;
}

/* CPU time of the slot since prepare, in microseconds. Returns 0 or -errno. */
int cgroup_slot_cpu_us(CgroupSlot *s, uint64_t *ret)
{
        return s->m->ops->slot_cpu_us(s, ret);
}

/* CPU, memory peak, OOM kill and pids.max hits since prepare. Returns 0 or -errno. */
int cgroup_slot_stats(CgroupSlot *s, CgroupStats *ret)
{
        return s->m->ops->slot_stats(s, ret);
}

/* True when no process is in the slot (an unreadable slot counts as busy). */
bool cgroup_slot_is_empty(CgroupSlot *s)
{
        /* v2: "populated" in cgroup.events; reading through events_fd also re-arms its poll. */
        if (s->events_fd >= 0 && !s->m->fake) {
                _cleanup_free_ char *ev = NULL;
                uint64_t populated;
                if (cg_read_fd(s->events_fd, &ev) == 0 && keyed_value(ev, "populated", &populated) == 0)
                        return populated == 0;
        }
        for (size_t i = 0; i < s->m->n_hier; i++)
                if (s->dir_fd[i] >= 0 && !cg_procs_empty(s->dir_fd[i]))
                        return false;
        return true;
}

/* SIGKILLs everything in the slot, repeating until it is empty (bounded; v2 waits on cgroup.events).
 * Fake mode: the kill file protocol runs once, nothing is signalled. Returns 0, -EBUSY when
 * processes remain, or -errno. */
int cgroup_slot_kill(CgroupSlot *s)
{
        if (s->m->fake)
                return s->m->ops->slot_signal_all(s);
        for (int i = 0; i < KILL_ROUNDS; i++) {
                if (cgroup_slot_is_empty(s))
                        return 0;
                int r = s->m->ops->slot_signal_all(s);
                if (r < 0)
                        return r;
                /* v2: "populated 0" in cgroup.events wakes us; v1 has no such event. */
                if (s->events_fd >= 0) {
                        struct pollfd p = {.fd = s->events_fd, .events = POLLPRI};
                        (void)RETRY_EINTR(poll(&p, 1, 5));
                } else
                        sleep_ms(1);
        }
        return cgroup_slot_is_empty(s) ? 0 : -EBUSY;
}
