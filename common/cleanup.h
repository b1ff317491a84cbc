/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-bound ownership: cleanup attributes, TAKE_PTR/TAKE_FD. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* close() that keeps errno and ignores negative fds. Returns -1 for assignment. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}
static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership on: returns the value and resets the variable. */
#define TAKE_PTR(p)                                                                                    \
        ({                                                                                             \
                __typeof__(p) _p_ = (p);                                                               \
                (p) = NULL;                                                                            \
                _p_;                                                                                   \
        })
#define TAKE_FD(fd)                                                                                    \
        ({                                                                                             \
                int _fd_ = (fd);                                                                       \
                (fd) = -1;                                                                             \
                _fd_;                                                                                  \
        })

/* Define a cleanup function for a type with a free function that accepts NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                        \
        static inline void func##p(type *p)                                                            \
        {                                                                                              \
                if (*p)                                                                                \
                        func(*p);                                                                      \
        }

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Retry a syscall interrupted by a signal. */
#define RETRY_EINTR(expr)                                                                              \
        ({                                                                                             \
                long _r_;                                                                              \
                do                                                                                     \
                        _r_ = (long)(expr);                                                            \
                while (_r_ < 0 && errno == EINTR);                                                     \
                _r_;                                                                                   \
        })
