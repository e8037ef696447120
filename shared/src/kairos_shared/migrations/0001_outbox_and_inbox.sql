-- The messaging tables every service has (kairos_shared.outbox, .relay, .inbox).

-- Events waiting to be published, written in the same transaction as the state change that
-- caused them. The relay publishes them in id order per (topic, key) and marks them published.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    topic text NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    header_names text[] NOT NULL DEFAULT '{}',
    header_values bytea[] NOT NULL DEFAULT '{}',
    -- 32-bit hash of (topic, key): the relay holds an advisory lock on it while it publishes,
    -- so two relays never publish the same key at once (order per key).
    lock_key integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz,
    CHECK (cardinality(header_names) = cardinality(header_values))
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Events this service's consumers applied: the event id is recorded in the same transaction as
-- the effect, so a redelivered event is recognised and not applied twice.
CREATE TABLE inbox (
    consumer text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_processed_at ON inbox (processed_at);
