-- Outbox rows Kafka refused for their size or content (kairos_shared.relay): moved here with
-- the reason, so they never block the rows behind them; an operator lists them with
-- `kairos outbox parked <service>`, fixes the cause and deletes or re-queues them by hand.
CREATE TABLE outbox_parked (
    id bigint PRIMARY KEY,  -- the row's id in the outbox
    event_id text NOT NULL,
    topic text NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    header_names text[] NOT NULL,
    header_values bytea[] NOT NULL,
    created_at timestamptz NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    reason text NOT NULL
);
