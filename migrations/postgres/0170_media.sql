-- Uploaded media (nova-media): one row per upload, its variants as a JSON list beside it.
-- Times are Unix microseconds (BIGINT), compared the same on both engines.
CREATE TABLE media (
    id           UUID    PRIMARY KEY,
    owner_id     UUID    NOT NULL,
    -- 'image', 'gif', 'video', 'audio' (from the file's magic bytes)
    kind         TEXT    NOT NULL,
    mime         TEXT    NOT NULL,
    -- 'pending' -> 'processing' -> 'ready' | 'failed' (with failure)
    state        TEXT    NOT NULL,
    failure      TEXT    NOT NULL DEFAULT '',
    size_bytes   BIGINT  NOT NULL,
    -- the upload as received while it is kept (videos, audio), or ''
    original_key TEXT    NOT NULL DEFAULT '',
    -- JSON: [{"name","format","width","height","size_bytes","key"}]
    variants     TEXT    NOT NULL DEFAULT '[]',
    width        BIGINT,
    height       BIGINT,
    duration_ms  BIGINT,
    blurhash     TEXT,
    phash        TEXT,
    alt_text     TEXT    NOT NULL DEFAULT '',
    focus_x      DOUBLE PRECISION,
    focus_y      DOUBLE PRECISION,
    created_us   BIGINT  NOT NULL,
    updated_us   BIGINT  NOT NULL,
    -- what uses it ('post:<id>', 'avatar:<user id>', ...), or '' while unattached
    attached_to  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX media_owner_idx ON media (owner_id, created_us DESC);
-- the cleanup job: unattached uploads, oldest first
CREATE INDEX media_unattached_idx ON media (created_us) WHERE attached_to = '';
