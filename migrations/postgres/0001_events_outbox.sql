-- Transactional outbox: a domain writes its state change and its events in one
-- transaction; a relay publishes them. With no external broker the outbox doubles as
-- the durable event log: the relay stamps each event with a gap-free `log_position`
-- (in commit order, under the `event_log_head` row lock) and consumers read by position.
CREATE TABLE outbox (
    seq          BIGSERIAL   PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    event_type   TEXT        NOT NULL,
    aggregate_id TEXT        NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    payload      BYTEA       NOT NULL,
    published_at TIMESTAMPTZ,
    log_position BIGINT      UNIQUE
);

-- The relay scans only what is still unpublished.
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;

-- One row: the last log position handed out. Its row lock serializes relays so
-- positions become visible in order (a consumer never skips a position).
CREATE TABLE event_log_head (
    id       SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT   NOT NULL
);
INSERT INTO event_log_head (id, position) VALUES (1, 0);

-- Each consumer's committed position in the log.
CREATE TABLE event_consumer_offsets (
    consumer   TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Idempotency: events a consumer has already applied.
CREATE TABLE processed_events (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Events a consumer gave up on after its retries, with the last error.
CREATE TABLE event_dead_letters (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    log_position BIGINT      NOT NULL,
    attempts     INTEGER     NOT NULL,
    last_error   TEXT        NOT NULL,
    failed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
