-- SPDX-License-Identifier: Apache-2.0
-- The outbox becomes a table of its own; the history index goes.
--
-- Every UPDATE of submissions is non-HOT (status and published_at appear in index predicates), so
-- recording a confirmed publish as `published_at = now()` wrote a second copy of the wide row and
-- an entry in every index, once per job. A row in a narrow table, inserted by the same statement
-- as the submission and deleted on the confirm, costs one small heap tuple and one index entry.

-- Submissions whose message RabbitMQ has not confirmed yet: sentinel-api inserts the row in the
-- statement that inserts the submission (so both commit or neither does) and deletes it when the
-- broker confirms the publish. The relay re-publishes rows left here too long, when their
-- submission is still QUEUED, and deletes the others (those were delivered: a worker took them).
-- (created_at, id) is the submission's key too; the relay reads it oldest first.
CREATE TABLE sentinel_outbox (
        id              uuid        NOT NULL,
        created_at      timestamptz NOT NULL,
        PRIMARY KEY (created_at, id)
);

INSERT INTO sentinel_outbox (id, created_at)
        SELECT id, created_at FROM submissions WHERE published_at IS NULL AND status = 'QUEUED';

-- The column stays for one release, unindexed and unused: API processes of the previous release,
-- still running during a rolling upgrade, set it on their confirms and read it in their relay
-- (OPERATIONS.md: never drop a column in the release that stops using it). A later migration
-- drops it. Its partial index goes now: with the column never set again, every row would enter it.
DROP INDEX submissions_unpublished;

-- History pages (ORDER BY created_at DESC, id DESC with a (created_at, id) cursor) read the
-- primary key (created_at, id) backwards: a second index in the opposite order only cost writes.
DROP INDEX submissions_history;
