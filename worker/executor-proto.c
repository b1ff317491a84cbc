/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's wire protocol: datagrams with fds, sealed memfds, request and event codecs. */
#include "executor-proto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_WRITE)

int exec_wire_send(int sock, const void *hdr, size_t hdr_len, const void *data, size_t len, int fd, int flags)
{
        struct iovec iov[2] = {
                {.iov_base = (void *)hdr, .iov_len = hdr_len},
                {.iov_base = (void *)data, .iov_len = len},
        };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl = {};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
        if (fd >= 0) {
                mh.msg_control = ctl.buf;
                mh.msg_controllen = sizeof ctl.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (RETRY_EINTR(sendmsg(sock, &mh, MSG_NOSIGNAL | flags)) < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        return 0;
}

ssize_t exec_wire_recv(int sock, void *buf, size_t len, int *ret_fd, int flags)
{
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        *ret_fd = -1;
        ssize_t n = RETRY_EINTR(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags));
        if (n < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        int fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                /* Every fd received is ours to close, however many came. */
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int x;
                        memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof x);
                        if (fd < 0)
                                fd = x;
                        else {
                                safe_close(x);
                                mh.msg_flags |= MSG_CTRUNC;
                        }
                }
        }
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                safe_close(fd);
                return -EMSGSIZE;
        }
        *ret_fd = fd;
        return n;
}

int exec_memfd_new(const struct iovec *parts, size_t n_parts, int *ret_fd)
{
        _cleanup_close_ int fd = memfd_create("sentinel-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        off_t off = 0;
        for (size_t i = 0; i < n_parts; i++)
                for (size_t done = 0; done < parts[i].iov_len;) {
                        ssize_t w = RETRY_EINTR(
                                pwrite(fd, (const char *)parts[i].iov_base + done, parts[i].iov_len - done, off));
                        if (w < 0)
                                return -errno;
                        done += (size_t)w;
                        off += w;
                }
        if (fcntl(fd, F_ADD_SEALS, REQUIRED_SEALS | F_SEAL_GROW) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int exec_mapping_map(int fd, size_t max, ExecMapping *ret)
{
        struct stat st;
        if (fd < 0)
                return -EBADMSG;
        if (fstat(fd, &st) < 0)
                return -errno;
        int seals = fcntl(fd, F_GET_SEALS);
        /* Without F_SEAL_SHRINK the sender could truncate it under our mapping (SIGBUS). */
        if (!S_ISREG(st.st_mode) || seals < 0 || (seals & REQUIRED_SEALS) != REQUIRED_SEALS)
                return -EBADMSG;
        if (st.st_size < 0 || (uint64_t)st.st_size > max)
                return -EFBIG;
        size_t len = (size_t)st.st_size;
        if (len == 0) {
                *ret = (ExecMapping){};
                return 0;
        }
        void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        *ret = (ExecMapping){.data = p, .len = len};
        return 0;
}

void exec_mapping_deinit(ExecMapping *m)
{
        if (m->data)
                munmap((void *)m->data, m->len);
        *m = (ExecMapping){};
}

/* Copies s into a fixed field; false when it does not fit. */
static bool copy_string(char *dst, size_t size, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (!s || n == 0 || n >= size)
                return false;
        memcpy(dst, s, n + 1);
        return true;
}

int exec_request_encode(const ExecRequest *req, ExecWireRequest *ret_hdr, int *ret_fd)
{
        ExecWireRequest h;
        memset(&h, 0, sizeof h); /* padding too: it goes over the wire */
        h.type = EXEC_WIRE_REQUEST;
        if (!copy_string(h.tag, sizeof h.tag, req->tag) || !copy_string(h.language, sizeof h.language, req->language))
                return -EINVAL;
        if (!req->source && req->source_len > 0)
                return -EINVAL;

        size_t n_args = 0, args_len = 0;
        for (char *const *a = req->args; a && *a; a++) {
                if (++n_args > EXEC_ARGS_MAX)
                        return -EINVAL;
                args_len += strlen(*a) + 1;
                if (args_len > EXEC_ARGS_MAX_BYTES)
                        return -E2BIG;
        }
        _cleanup_free_ char *args = n_args ? malloc(args_len) : NULL;
        if (n_args && !args)
                return -ENOMEM;
        size_t off = 0;
        for (size_t i = 0; i < n_args; i++) {
                size_t l = strlen(req->args[i]) + 1;
                memcpy(args + off, req->args[i], l);
                off += l;
        }

        size_t stdin_len = req->stdin_data ? req->stdin_len : 0;
        h.n_args = (uint32_t)n_args;
        h.source_len = req->source_len;
        h.stdin_len = stdin_len;
        h.args_len = args_len;
        h.limits = req->limits;
        struct iovec parts[] = {
                {.iov_base = (void *)req->source, .iov_len = req->source_len},
                {.iov_base = (void *)req->stdin_data, .iov_len = stdin_len},
                {.iov_base = args, .iov_len = args_len},
        };
        int r = exec_memfd_new(parts, ELEMENTSOF(parts), ret_fd);
        if (r < 0)
                return r;
        *ret_hdr = h;
        return 0;
}

void exec_decoded_request_deinit(ExecDecodedRequest *r)
{
        free(r->args);
        exec_mapping_deinit(&r->payload);
        *r = (ExecDecodedRequest){};
}

/* Whether a fixed field holds a NUL-terminated, non-empty string. */
static bool field_is_string(const char *f, size_t size)
{
        return f[0] != '\0' && memchr(f, '\0', size) != NULL;
}

/* Checks each run limit: 0 takes the default, above the operator's maximum is refused. */
static int decode_limits(const Config *cfg, const Limits *in, Limits *out, char *errbuf, size_t errlen)
{
        static const struct {
                const char *name;
                size_t offset;
        } fields[] = {
                {"cpu_ms", offsetof(Limits, cpu_ms)},
                {"wall_ms", offsetof(Limits, wall_ms)},
                {"memory_kb", offsetof(Limits, memory_kb)},
                {"pids", offsetof(Limits, pids)},
                {"output_kb", offsetof(Limits, output_kb)},
                {"fsize_kb", offsetof(Limits, fsize_kb)},
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                uint64_t v, def, max;
                memcpy(&v, (const char *)in + fields[i].offset, sizeof v);
                memcpy(&def, (const char *)&cfg->run_default + fields[i].offset, sizeof def);
                memcpy(&max, (const char *)&cfg->run_max + fields[i].offset, sizeof max);
                if (v == 0)
                        v = def;
                if (v > max) {
                        snprintf(errbuf, errlen, "limit %s=%" PRIu64 " is above the operator's maximum %" PRIu64,
                                fields[i].name, v, max);
                        return -EBADMSG;
                }
                memcpy((char *)out + fields[i].offset, &v, sizeof v);
        }
        return 0;
}

int exec_request_decode(const Config *cfg, const void *buf, size_t n, int fd, ExecDecodedRequest *ret,
        char *errbuf, size_t errlen)
{
        *ret = (ExecDecodedRequest){};
        ExecWireRequest h;
        if (n != sizeof h) {
                snprintf(errbuf, errlen, "a request of %zu bytes (expected %zu)", n, sizeof h);
                return -EBADMSG;
        }
        memcpy(&h, buf, sizeof h);
        if (h.type != EXEC_WIRE_REQUEST) {
                snprintf(errbuf, errlen, "a message of unknown type %#" PRIx32, h.type);
                return -EBADMSG;
        }
        if (!field_is_string(h.tag, sizeof h.tag)) {
                snprintf(errbuf, errlen, "a request without a tag");
                return -EBADMSG;
        }
        memcpy(ret->tag, h.tag, sizeof ret->tag);
        if (!field_is_string(h.language, sizeof h.language)) {
                snprintf(errbuf, errlen, "a request without a language");
                return -EBADMSG;
        }
        memcpy(ret->language, h.language, sizeof ret->language);

        uint64_t max_source = cfg->max_source_kb * 1024, max_stdin = cfg->max_stdin_kb * 1024;
        if (h.source_len > max_source || h.stdin_len > max_stdin || h.args_len > EXEC_ARGS_MAX_BYTES ||
                h.n_args > EXEC_ARGS_MAX) {
                snprintf(errbuf, errlen,
                        "a request over the limits (source %" PRIu64 " bytes, stdin %" PRIu64
                        " bytes, %" PRIu32 " args in %" PRIu64 " bytes)",
                        h.source_len, h.stdin_len, h.n_args, h.args_len);
                return -EFBIG;
        }
        int r = decode_limits(cfg, &h.limits, &ret->limits, errbuf, errlen);
        if (r < 0)
                return r;

        /* The bounds above keep this sum far from overflowing. */
        size_t total = (size_t)(h.source_len + h.stdin_len + h.args_len);
        r = exec_mapping_map(fd, total, &ret->payload);
        if (r < 0 || ret->payload.len != total) {
                snprintf(errbuf, errlen, "a request payload that is %s",
                        r == -EBADMSG ? "missing or not a sealed memfd"
                        : r < 0 && r != -EFBIG ? strerror(-r)
                                               : "not as long as its header says");
                exec_mapping_deinit(&ret->payload);
                return r == -ENOMEM ? r : -EBADMSG;
        }
        const char *p = ret->payload.data;
        ret->source = p ? p : "";
        ret->source_len = (size_t)h.source_len;
        ret->stdin_len = (size_t)h.stdin_len;
        ret->stdin_data = h.stdin_len ? p + h.source_len : NULL;

        const char *a = h.args_len ? p + h.source_len + h.stdin_len : NULL;
        size_t args_len = (size_t)h.args_len;
        /* Exactly n_args strings, the last one terminated. */
        size_t nuls = 0;
        for (size_t i = 0; i < args_len; i++)
                nuls += a[i] == '\0';
        if (nuls != h.n_args || (args_len > 0 && a[args_len - 1] != '\0')) {
                snprintf(errbuf, errlen, "%" PRIu32 " args announced, %zu found", h.n_args, nuls);
                exec_mapping_deinit(&ret->payload);
                return -EBADMSG;
        }
        if (h.n_args > 0) {
                ret->args = calloc(h.n_args + 1, sizeof *ret->args);
                if (!ret->args) {
                        exec_mapping_deinit(&ret->payload);
                        snprintf(errbuf, errlen, "out of memory");
                        return -ENOMEM;
                }
                for (size_t i = 0, off = 0; i < h.n_args; i++) {
                        ret->args[i] = (char *)a + off;
                        off += strlen(a + off) + 1;
                }
        }
        return 0;
}

void exec_wire_event_init(ExecWireEvent *h, ExecWireType type, const char *tag)
{
        memset(h, 0, sizeof *h);
        h->type = type;
        size_t n = strnlen(tag, EXEC_TAG_MAX);
        memcpy(h->tag, tag, n);
}

/* Parses a DONE's JSON, inline or from its memfd. */
static json_t *decode_result(const ExecWireEvent *h, const char *data, size_t len, int fd)
{
        json_error_t e;
        if (!(h->flags & EXEC_WIRE_DONE_IN_MEMFD))
                return fd < 0 ? json_loadb(data, len, JSON_ALLOW_NUL, &e) : NULL;
        if (len != 0)
                return NULL;
        ExecMapping m = EXEC_MAPPING_NULL;
        if (exec_mapping_map(fd, EXEC_RESULT_MAX_BYTES, &m) < 0)
                return NULL;
        json_t *j = m.len ? json_loadb(m.data, m.len, JSON_ALLOW_NUL, &e) : NULL;
        exec_mapping_deinit(&m);
        return j;
}

int exec_event_decode(const void *buf, size_t n, int fd, ExecEvent *ret)
{
        ExecWireEvent h;
        if (n < sizeof h)
                return -EPROTO;
        memcpy(&h, buf, sizeof h);
        const char *data = (const char *)buf + sizeof h;
        size_t len = n - sizeof h;
        if (!field_is_string(h.tag, sizeof h.tag))
                return -EPROTO;
        ExecEvent ev = {};
        memcpy(ev.tag, h.tag, sizeof ev.tag);
        switch (h.type) {
        case EXEC_WIRE_PHASE:
                if (len != 0 || fd >= 0 || (h.phase != JOB_COMPILING && h.phase != JOB_RUNNING))
                        return -EPROTO;
                ev.type = EXEC_EVENT_PHASE;
                ev.phase = (JobPhase)h.phase;
                break;
        case EXEC_WIRE_OUTPUT:
                if (len == 0 || len > EXEC_CHUNK_MAX || fd >= 0 || (h.stream != 1 && h.stream != 2))
                        return -EPROTO;
                ev.type = EXEC_EVENT_OUTPUT;
                ev.stream = h.stream;
                ev.data = malloc(len + 1);
                if (!ev.data)
                        return -ENOMEM;
                memcpy(ev.data, data, len);
                ev.data[len] = '\0';
                ev.len = len;
                break;
        case EXEC_WIRE_DONE:
                ev.type = EXEC_EVENT_DONE;
                ev.output_dropped = h.flags & EXEC_WIRE_DONE_OUTPUT_DROPPED;
                ev.result = decode_result(&h, data, len, fd);
                if (!json_is_object(ev.result) || !json_is_string(json_object_get(ev.result, "status"))) {
                        json_decref(ev.result);
                        return -EPROTO;
                }
                break;
        default:
                return -EPROTO;
        }
        *ret = ev;
        return 0;
}
