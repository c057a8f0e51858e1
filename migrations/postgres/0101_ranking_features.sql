-- Ranking feature store (nova-ranking): aggregated viewer -> author interactions.
CREATE TABLE ranking_author_signals (
    viewer_id    UUID             NOT NULL,
    author_id    UUID             NOT NULL,
    interactions DOUBLE PRECISION NOT NULL DEFAULT 0,  -- likes, replies, reposts, ...
    negative     DOUBLE PRECISION NOT NULL DEFAULT 0,  -- "show less"
    updated_at   TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (viewer_id, author_id)
);
