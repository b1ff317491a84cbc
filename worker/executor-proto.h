/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's wire protocol: what the worker and its forked executor say over their socket.
 *
 * One SOCK_SEQPACKET socketpair; every message is one datagram of a fixed header.
 *  - Worker → executor: an ExecWireRequest, with a sealed memfd (SCM_RIGHTS) holding the payload:
 *    the source, then stdin, then the args as NUL-terminated strings. Payloads can be megabytes;
 *    a datagram is capped by the socket buffer, a memfd is not.
 *  - Executor → worker: an ExecWireEvent, then for OUTPUT the bytes (at most EXEC_CHUNK_MAX), for
 *    DONE the result's JSON: inline when it fits a chunk, else in an attached sealed memfd.
 * Both ends are the same binary (fork, no exec), so the headers are plain structs. The executor
 * checks everything the worker sends (sizes against the Config, seals, strings terminated); the
 * worker trusts the executor but still refuses what it cannot parse (-EPROTO). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"
#include "executor.h"

#define EXEC_LANGUAGE_MAX 64          /* registry ids are at most 32 */
#define EXEC_CHUNK_MAX (32 * 1024)    /* OUTPUT bytes per datagram; DONE JSON inline up to this */
#define EXEC_ARGS_MAX 4096            /* the API allows 64 */
#define EXEC_ARGS_MAX_BYTES (1 << 20) /* the API allows 64 KiB */
#define EXEC_RESULT_MAX_BYTES ((size_t)1 << 32) /* a DONE memfd the worker accepts */

typedef enum ExecWireType {
        EXEC_WIRE_REQUEST = 0x5e4e7101, /* not 0: a zeroed buffer is not a message */
        EXEC_WIRE_PHASE,
        EXEC_WIRE_OUTPUT,
        EXEC_WIRE_DONE,
} ExecWireType;

typedef struct ExecWireRequest {
        uint32_t type; /* EXEC_WIRE_REQUEST */
        uint32_t n_args;
        char tag[EXEC_TAG_MAX + 1];           /* NUL-terminated */
        char language[EXEC_LANGUAGE_MAX + 1]; /* NUL-terminated */
        uint64_t source_len, stdin_len, args_len;
        Limits limits; /* a field 0: the operator's default */
} ExecWireRequest;

enum {
        EXEC_WIRE_DONE_IN_MEMFD = 1 << 0,        /* the JSON is in the attached memfd */
        EXEC_WIRE_DONE_OUTPUT_DROPPED = 1 << 1,  /* some OUTPUT of this job was not forwarded */
};

typedef struct ExecWireEvent {
        uint32_t type; /* EXEC_WIRE_PHASE, _OUTPUT or _DONE */
        uint8_t stream; /* OUTPUT: 1 stdout, 2 stderr */
        uint8_t phase;  /* PHASE: a JobPhase */
        uint8_t flags;  /* DONE: EXEC_WIRE_DONE_* */
        uint8_t reserved;
        char tag[EXEC_TAG_MAX + 1];
} ExecWireEvent;

/* Sends one datagram: hdr then data (may be empty), with fd attached when >= 0 (borrowed).
 * flags: MSG_DONTWAIT or 0 (MSG_NOSIGNAL is always added). Returns 0 or -errno (-EAGAIN). */
int exec_wire_send(int sock, const void *hdr, size_t hdr_len, const void *data, size_t len, int fd, int flags);
/* Receives one datagram into buf, and at most one fd (O_CLOEXEC) into *ret_fd (-1 when none).
 * Returns its length, 0 at EOF, -EMSGSIZE when it was longer than len or carried more than one fd
 * (nothing is kept then), or -errno (-EAGAIN). */
ssize_t exec_wire_recv(int sock, void *buf, size_t len, int *ret_fd, int flags);

/* A sealed (no write, grow, shrink or further seals) memfd holding the parts one after another. */
int exec_memfd_new(const struct iovec *parts, size_t n_parts, int *ret_fd);

/* A read-only view of a sealed memfd. */
typedef struct ExecMapping {
        const char *data; /* NULL when len is 0 */
        size_t len;
} ExecMapping;
#define EXEC_MAPPING_NULL {}

/* Maps the memfd fd (borrowed) after checking that it is a regular file sealed against writes and
 * shrinking (no SIGBUS, no change under our feet) and at most max bytes long. Returns 0, -EBADMSG
 * (not a sealed memfd), -EFBIG (too long) or -errno. */
int exec_mapping_map(int fd, size_t max, ExecMapping *ret);
void exec_mapping_deinit(ExecMapping *m);

/* Worker side: the header and the payload memfd of a request. Returns 0, -EINVAL (no tag or
 * language, or one too long, or too many args), -E2BIG (args over EXEC_ARGS_MAX_BYTES) or -errno. */
int exec_request_encode(const ExecRequest *req, ExecWireRequest *ret_hdr, int *ret_fd);

/* A request as the executor took it apart. The strings point into the mapping. */
typedef struct ExecDecodedRequest {
        char tag[EXEC_TAG_MAX + 1]; /* "" when the header was unreadable */
        char language[EXEC_LANGUAGE_MAX + 1];
        ExecMapping payload;
        const char *source;
        size_t source_len;
        const char *stdin_data; /* NULL when stdin_len is 0 */
        size_t stdin_len;
        char **args; /* NULL-terminated, into the mapping; NULL when there are none */
        Limits limits; /* zeros replaced by cfg->run_default */
} ExecDecodedRequest;
#define EXEC_DECODED_REQUEST_NULL {}

/* Executor side: checks a request datagram (buf, n bytes) and its payload fd (borrowed; -1 if
 * none) against the Config's bounds. Returns 0, or -EBADMSG / -EFBIG / -ENOMEM with the reason in
 * errbuf; ret->tag is set whenever the header carried a readable tag, so the caller can answer. */
int exec_request_decode(const Config *cfg, const void *buf, size_t n, int fd, ExecDecodedRequest *ret,
        char *errbuf, size_t errlen);
void exec_decoded_request_deinit(ExecDecodedRequest *r);

/* Worker side: turns an event datagram (and its fd, borrowed) into an ExecEvent. Returns 0,
 * -EPROTO (malformed) or -ENOMEM. */
int exec_event_decode(const void *buf, size_t n, int fd, ExecEvent *ret);

/* Fills an event header (the tag is truncated to EXEC_TAG_MAX). */
void exec_wire_event_init(ExecWireEvent *h, ExecWireType type, const char *tag);
