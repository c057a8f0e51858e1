-- Display text of hashed trending entities (see migrations/postgres/0102_trending_labels.sql).
CREATE TABLE trending_labels (
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    label       TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id)
);
