-- Trending snapshots (nova-trending). The engine lives in memory; these rows let a
-- restarted replica resume: scores are time-invariant `ln Σ w·exp(λ·t)` per window.
CREATE TABLE trending_scores (
    scope          TEXT        NOT NULL,  -- global | lang:xx | region:XX
    entity_kind    TEXT        NOT NULL,  -- post | hashtag | creator | link
    entity_id      TEXT        NOT NULL,  -- 32 hex digits
    log_scores     TEXT        NOT NULL,  -- JSON object: window name -> log score
    accounts       BYTEA       NOT NULL,  -- distinct-account sketch
    trending       BOOLEAN     NOT NULL,
    cooldown_until BIGINT,                -- Unix seconds
    snapshot_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, entity_kind, entity_id)
);

-- Per entity: what moderators decided, and a display label (hashtag text, URL).
CREATE TABLE trending_metadata (
    entity_kind  TEXT        NOT NULL,
    entity_id    TEXT        NOT NULL,
    label        TEXT,
    review_state TEXT        NOT NULL,  -- pending | approved | hidden
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entity_kind, entity_id)
);

-- When the last snapshot was taken, and since when the engine had been observing.
CREATE TABLE trending_snapshot (
    id             INTEGER     PRIMARY KEY CHECK (id = 1),
    taken_at       TIMESTAMPTZ NOT NULL,
    observed_since BIGINT
);
