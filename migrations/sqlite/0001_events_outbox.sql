-- Transactional outbox (see migrations/postgres/0001_events_outbox.sql for the design).
-- SQLite has a single writer, so commit order is already position order.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     BLOB    NOT NULL UNIQUE,
    event_type   TEXT    NOT NULL,
    aggregate_id TEXT    NOT NULL,
    occurred_at  TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    published_at TEXT,
    log_position INTEGER UNIQUE
);

CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE event_log_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO event_log_head (id, position) VALUES (1, 0);

CREATE TABLE event_consumer_offsets (
    consumer   TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     BLOB NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE event_dead_letters (
    consumer     TEXT    NOT NULL,
    event_id     BLOB    NOT NULL,
    log_position INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT    NOT NULL,
    failed_at    TEXT    NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
