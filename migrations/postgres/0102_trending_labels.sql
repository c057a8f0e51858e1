-- Display text of hashed trending entities (hashtags, links): trending keys them by a
-- 128-bit hash, readers want `#rustlang`. Written once per entity by the label recorder.
CREATE TABLE trending_labels (
    entity_kind TEXT        NOT NULL,
    entity_id   TEXT        NOT NULL,
    label       TEXT        NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entity_kind, entity_id)
);
