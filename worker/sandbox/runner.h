/* SPDX-License-Identifier: Apache-2.0 */
/* A job: write the source into a fresh /box, compile it in a sandbox if the language needs it, run
 * it in another, and turn the two steps into one verdict. Both steps use the same slot (one uid
 * owns the box). */
#pragma once

#include <stddef.h>

#include "launcher.h"
#include "policy.h"
#include "result.h"

typedef struct Job Job;

typedef struct JobSpec {
        const Language *language;
        Policy *policy;         /* profiles are compiled on first use */
        const char *source;
        size_t source_len;
        const char *stdin_data; /* may be NULL */
        size_t stdin_len;
        char *const *args;      /* extra program arguments, NULL-terminated, may be NULL */
        Limits limits;          /* run step */
        Limits compile_limits;  /* compile step */
} JobSpec;

typedef enum JobPhase {
        JOB_COMPILING,
        JOB_RUNNING,
} JobPhase;

typedef struct JobCallbacks {
        void (*on_phase)(void *userdata, JobPhase phase);                          /* may be NULL */
        void (*on_output)(void *userdata, int stream, const char *data, size_t len); /* run step; may be NULL */
        /* The job ended; *result is valid during the call only. The job is freed after it returns. */
        void (*on_done)(void *userdata, RunResult *result);
} JobCallbacks;

/* Starts a job on a free slot. Returns 0, -EBUSY when every slot is taken, or -errno. The spec's
 * buffers are copied; on_done always runs exactly once after a 0 return. */
int job_start(Launcher *l, const JobSpec *spec, const JobCallbacks *cb, void *userdata);
