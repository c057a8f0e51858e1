-- Ranking feature store (see migrations/postgres/0101_ranking_features.sql).
CREATE TABLE ranking_author_signals (
    viewer_id    BLOB NOT NULL,
    author_id    BLOB NOT NULL,
    interactions REAL NOT NULL DEFAULT 0,
    negative     REAL NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (viewer_id, author_id)
);
