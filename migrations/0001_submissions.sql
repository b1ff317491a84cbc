-- SPDX-License-Identifier: Apache-2.0
-- Submissions: one row per job, partitioned by month of creation.
--
-- The id is a UUIDv7 and created_at is the instant its timestamp names, so a lookup by id alone
-- also knows its partition (the API passes both). The outbox column published_at stays NULL until
-- RabbitMQ confirmed the job's message; the relay re-publishes rows that stay NULL too long.

CREATE TABLE submissions (
        id              uuid        NOT NULL,
        created_at      timestamptz NOT NULL,
        client          text        NOT NULL DEFAULT '',
        language        text        NOT NULL,
        source_code     text        NOT NULL,
        stdin           text,
        args            jsonb,
        expected_output text,
        limits          jsonb       NOT NULL,
        status          text        NOT NULL DEFAULT 'QUEUED',
        stdout          text,
        stderr          text,
        compile_output  text,
        exit_code       integer,
        signal          integer,
        cpu_time        double precision,
        wall_time       double precision,
        memory          bigint,
        message         text,
        started_at      timestamptz,
        finished_at     timestamptz,
        published_at    timestamptz,
        attempts        integer     NOT NULL DEFAULT 0,
        PRIMARY KEY (created_at, id),
        CONSTRAINT submissions_status_check CHECK (status IN (
                'QUEUED', 'RUNNING', 'ACCEPTED', 'WRONG_ANSWER', 'COMPILE_ERROR', 'RUNTIME_ERROR',
                'TIME_LIMIT_EXCEEDED', 'MEMORY_LIMIT_EXCEEDED', 'OUTPUT_LIMIT_EXCEEDED',
                'SECURITY_VIOLATION', 'INTERNAL_ERROR'))
) PARTITION BY RANGE (created_at);

-- History, newest first, with (created_at, id) as the cursor.
CREATE INDEX submissions_history ON submissions (created_at DESC, id DESC);
-- Per-client history and quotas.
CREATE INDEX submissions_client ON submissions (client, created_at DESC);
-- The relay's work list: small, because confirmed rows leave it.
CREATE INDEX submissions_unpublished ON submissions (created_at) WHERE published_at IS NULL;

-- Anything outside the monthly partitions still lands somewhere.
CREATE TABLE submissions_default PARTITION OF submissions DEFAULT;

-- Creates the monthly partitions from the month of `from_ts` for `months` months; safe to re-run.
-- The API calls it at start and daily.
CREATE FUNCTION sentinel_ensure_partitions(from_ts timestamptz, months integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        m date := date_trunc('month', from_ts AT TIME ZONE 'UTC')::date;
        name text;
BEGIN
        FOR i IN 0 .. months - 1 LOOP
                name := format('submissions_%s', to_char(m, 'YYYY_MM'));
                IF to_regclass(name) IS NULL THEN
                        EXECUTE format(
                                'CREATE TABLE %I PARTITION OF submissions FOR VALUES FROM (%L) TO (%L)',
                                name, (m::timestamp AT TIME ZONE 'UTC'),
                                ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
                END IF;
                m := (m + interval '1 month')::date;
        END LOOP;
END
$$;

SELECT sentinel_ensure_partitions(now() - interval '1 month', 4);
