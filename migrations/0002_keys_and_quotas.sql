-- API keys and per-client quotas (issue 4).

-- API keys, created and revoked with `sentinel-api keys`. Only a SHA-256 of each key is kept (the
-- keys are 256-bit random, so a fast hash is enough); `prefix` (the key's first characters) lets
-- people tell keys apart in listings. While one key is active, every /api route requires a key.
CREATE TABLE api_keys (
        id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        name            text        NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
        key_hash        text        NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
        prefix          text        NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        revoked_at      timestamptz
);
-- A name names one active key; revoked keys keep theirs for the record.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- The cap on queued-plus-running jobs per client counts these rows.
CREATE INDEX submissions_client_active ON submissions (client) WHERE status IN ('QUEUED', 'RUNNING');
