-- Content (nova-content): posts (top-level, replies, quotes), their facets, likes,
-- bookmarks and edit history. Deleted posts stay as tombstones (deleted_at set, text
-- cleared) so threads keep their shape.
CREATE TABLE posts (
    id              UUID        PRIMARY KEY,
    author_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text            TEXT        NOT NULL,
    facets          TEXT        NOT NULL, -- JSON
    media           TEXT        NOT NULL, -- JSON
    language        TEXT,
    visibility      TEXT        NOT NULL,
    content_warning TEXT,
    reply_to        UUID        REFERENCES posts (id),
    root_id         UUID        REFERENCES posts (id),
    depth           INTEGER     NOT NULL,
    quote_of        UUID        REFERENCES posts (id),
    reply_policy    TEXT        NOT NULL,
    quotes_allowed  BOOLEAN     NOT NULL,
    like_count      BIGINT      NOT NULL,
    reply_count     BIGINT      NOT NULL,
    quote_count     BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    edited_at       TIMESTAMPTZ,
    deleted_at      TIMESTAMPTZ,
    idempotency_key TEXT,
    request_hash    BYTEA
);
CREATE INDEX posts_author_idx ON posts (author_id, id);
CREATE INDEX posts_reply_to_idx ON posts (reply_to);
CREATE INDEX posts_root_idx ON posts (root_id, id);
CREATE INDEX posts_quote_of_idx ON posts (quote_of);
CREATE UNIQUE INDEX posts_idempotency_idx ON posts (author_id, idempotency_key);

-- Who a post mentions (mentioned-only visibility, reply controls, notifications).
CREATE TABLE post_mentions (
    post_id UUID NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_mentions_user_idx ON post_mentions (user_id);

CREATE TABLE post_hashtags (
    post_id UUID NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_hashtags_tag_idx ON post_hashtags (tag);

CREATE TABLE likes (
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    UUID        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX likes_post_idx ON likes (post_id);

CREATE TABLE bookmarks (
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    UUID        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX bookmarks_post_idx ON bookmarks (post_id);

CREATE TABLE post_edits (
    post_id       UUID        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    edited_at     TIMESTAMPTZ NOT NULL,
    editor_id     UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    previous_text TEXT        NOT NULL,
    PRIMARY KEY (post_id, edited_at)
);
CREATE INDEX post_edits_editor_idx ON post_edits (editor_id);
