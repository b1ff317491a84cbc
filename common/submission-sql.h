/* SPDX-License-Identifier: Apache-2.0 */
/* SQL fragments both services use on the submissions table (migrations/0001_submissions.sql). */
#pragma once

/* The partition key from a UUIDv7's millisecond timestamp passed as parameter $n. */
#define CREATED_AT_PARAM(n) "(timestamptz 'epoch' + $" #n "::bigint * interval '1 millisecond')"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define SUBMISSION_JSON                                                                                \
        "json_build_object('id', id, 'language', language, 'status', status, 'stdout', stdout,"       \
        " 'stderr', stderr, 'compile_output', compile_output, 'exit_code', exit_code, 'signal', signal," \
        " 'cpu_time', cpu_time, 'wall_time', wall_time, 'memory', memory, 'message', message,"        \
        " 'created_at', " ISO("created_at") ", 'started_at', " ISO("started_at") ","                  \
        " 'finished_at', " ISO("finished_at") ", 'limits', limits, 'args', args,"                     \
        " 'source_code', source_code, 'stdin', stdin, 'expected_output', expected_output)"

/* The statuses after which a submission never changes. */
#define FINAL_STATUS_SQL "status NOT IN ('QUEUED', 'RUNNING')"
