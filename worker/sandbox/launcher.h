/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher: a long-lived, single-threaded supervisor that spawns and watches many sandboxes.
 *
 * It owns N slots; a slot is a uid, a cgroup and an empty network namespace, reused job after job,
 * so starting a sandbox costs one clone and a handful of mounts. Everything is event-driven: pidfds,
 * output pipes, the seccomp listener and one timerfd per sandbox sit in one epoll set. No job is ever
 * cloned from a multi-threaded process: the worker forks the launcher before it starts any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "box.h"
#include "cleanup.h"
#include "config.h"
#include "result.h"
#include "seccomp-profile.h"

typedef struct Launcher Launcher;

typedef struct LauncherOptions {
        const Config *config;
        unsigned slots;          /* 0: config->slots, or the number of online CPUs */
        const char *runtime_dir; /* NULL: "/run/sentinel" */
        bool fresh_netns;        /* a new network namespace per run instead of the pooled one */
        const char *const *ro_mounts; /* every ro_mount the policy's languages use (mount points) */
        bool adopt_cgroup;       /* a service's delegated cgroup: see CgroupOptions.adopt_own */
        bool trim_fork_mappings; /* a process that forks only sandboxes: see spawn_trim_fork_mappings() */
} LauncherOptions;

/* One sandboxed step (a compile or a run). */
typedef struct StepSpec {
        char *const *argv;             /* argv[0] absolute, inside the sandbox */
        char *const *envp;             /* the whole environment: nothing of the host's is added */
        const char *const *ro_mounts;  /* extra host paths bound read-only */
        Limits limits;
        const SeccompProgram *seccomp;
        int stdin_fd;                  /* borrowed; -1: /dev/null */
} StepSpec;

typedef struct StepCallbacks {
        /* Output as it arrives (stream 1 or 2), only the bytes kept within the limit. May be NULL. */
        void (*on_output)(void *userdata, int stream, const char *data, size_t len);
        /* The step ended; *result is filled (the caller's StepResult passed to launcher_spawn). */
        void (*on_done)(void *userdata, StepResult *result);
} StepCallbacks;

/* Sets up the launcher: a private mount namespace for itself (the host's mount table is never
 * changed), a tmpfs runtime directory, the cgroup manager and the slots. Must run as root,
 * single-threaded. On failure returns -errno and a message in errbuf. */
int launcher_new(const LauncherOptions *opts, Launcher **ret, char *errbuf, size_t errlen);
/* Kills whatever still runs, removes slots and cgroups. Accepts NULL. */
Launcher *launcher_free(Launcher *l);

unsigned launcher_n_slots(const Launcher *l);
/* "v1" or "v2" and where the slots live, for logs. */
const char *launcher_describe(const Launcher *l);

/* Takes a free slot: returns its index, or -EBUSY when all are taken. */
int launcher_acquire_slot(Launcher *l);
void launcher_release_slot(Launcher *l, unsigned slot);
/* A new /box for a job in `slot` (owned by the slot's uid). Free with box_free(). */
int launcher_new_box(Launcher *l, unsigned slot, Box **ret);

/* Starts a step in `slot` (acquired, idle) with /box = box. *result is initialised here and filled
 * when cb->on_done runs. Returns 0, or -errno (then no callback runs). */
int launcher_spawn(Launcher *l, unsigned slot, Box *box, const StepSpec *spec, StepResult *result,
        const StepCallbacks *cb, void *userdata);
/* Stops the step running in `slot` (it ends with its verdict and message "cancelled"). */
int launcher_cancel(Launcher *l, unsigned slot);

/* The epoll fd, for callers that wait on more than the launcher. */
int launcher_get_fd(const Launcher *l);
/* Handles ready events, waiting up to timeout_ms (-1: forever). Returns 0 or -errno. */
int launcher_dispatch(Launcher *l, int timeout_ms);
/* Number of steps running. */
unsigned launcher_running(const Launcher *l);

DEFINE_TRIVIAL_CLEANUP_FUNC(Launcher *, launcher_free);
