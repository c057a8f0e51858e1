-- Trending snapshots (see migrations/postgres/0100_trending.sql).
CREATE TABLE trending_scores (
    scope          TEXT    NOT NULL,
    entity_kind    TEXT    NOT NULL,
    entity_id      TEXT    NOT NULL,
    log_scores     TEXT    NOT NULL,
    accounts       BLOB    NOT NULL,
    trending       INTEGER NOT NULL,
    cooldown_until INTEGER,
    snapshot_at    TEXT    NOT NULL,
    PRIMARY KEY (scope, entity_kind, entity_id)
);

CREATE TABLE trending_metadata (
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    label        TEXT,
    review_state TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id)
);

CREATE TABLE trending_snapshot (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    taken_at       TEXT    NOT NULL,
    observed_since INTEGER
);
