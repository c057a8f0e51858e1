-- Social actions (nova-social): follow requests to private accounts, reposts, and
-- subscribable block lists. The edges themselves (follows, blocks, mutes) live in the
-- graph domain.
CREATE TABLE follow_requests (
    requester_id UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (requester_id, target_id)
);
CREATE INDEX follow_requests_target_idx ON follow_requests (target_id, created_at);

-- One repost per user per post.
CREATE TABLE reposts (
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    UUID        NOT NULL,
    author_id  UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX reposts_post_idx ON reposts (post_id);
CREATE INDEX reposts_author_idx ON reposts (author_id);

CREATE TABLE block_lists (
    id          UUID        PRIMARY KEY,
    owner_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    description TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX block_lists_owner_idx ON block_lists (owner_id);

CREATE TABLE block_list_entries (
    list_id  UUID        NOT NULL REFERENCES block_lists (id) ON DELETE CASCADE,
    user_id  UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX block_list_entries_user_idx ON block_list_entries (user_id);

CREATE TABLE block_list_subscriptions (
    list_id       UUID        NOT NULL REFERENCES block_lists (id) ON DELETE CASCADE,
    subscriber_id UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, subscriber_id)
);
CREATE INDEX block_list_subscriptions_subscriber_idx ON block_list_subscriptions (subscriber_id);
