-- The Idempotency-Key of every POST (kairos_shared.idempotency).

-- One row per (caller, key): written before the effect, in the same transaction, and completed
-- with the response after it. A concurrent request with the same key waits on the primary key
-- until that transaction ends; a committed row is replayed, a rolled-back one never existed.
-- Bodies are kept to replay them, never logged; rows are pruned once older than 24 hours.
CREATE TABLE idempotency_key (
    scope text NOT NULL,
    key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
    status_code integer CHECK (status_code BETWEEN 100 AND 599),
    response_body bytea,
    response_media_type text,
    created_at timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (scope, key),
    -- completed means a stored response, and a stored response means completed
    CHECK (
        (completed_at IS NULL AND status_code IS NULL AND response_body IS NULL
            AND response_media_type IS NULL)
        OR (completed_at IS NOT NULL AND status_code IS NOT NULL AND response_body IS NOT NULL)
    )
);
CREATE INDEX idempotency_key_created_at ON idempotency_key (created_at);
