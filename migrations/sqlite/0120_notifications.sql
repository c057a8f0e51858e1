-- In-app notifications (nova-notification), grouped like Mastodon's: one row per
-- (recipient, kind, target, time bucket, folder) with its actors beside it. Times are
-- Unix microseconds (BIGINT), so pages order and compare the same on both engines.
CREATE TABLE notification_groups (
    id           BLOB    PRIMARY KEY,
    recipient_id BLOB    NOT NULL,
    kind         TEXT    NOT NULL,
    -- The post (like, repost, reply, quote, mention), or '' (follow, follow request).
    target_id    TEXT    NOT NULL,
    -- occurred_at / grouping window: the same event always lands in the same group.
    bucket       BIGINT  NOT NULL,
    -- 'inbox', or 'requests' for what the recipient's policy filters.
    folder       TEXT    NOT NULL,
    actor_count  BIGINT  NOT NULL,
    unread       BOOLEAN NOT NULL,
    created_us   BIGINT  NOT NULL,
    latest_us    BIGINT  NOT NULL,
    UNIQUE (recipient_id, kind, target_id, bucket, folder)
);
CREATE INDEX notification_groups_page_idx
    ON notification_groups (recipient_id, folder, latest_us DESC, id DESC);
CREATE INDEX notification_groups_target_idx
    ON notification_groups (target_id) WHERE target_id <> '';

-- Who is in a group: an actor counts once per group, whatever the redelivery.
CREATE TABLE notification_actors (
    group_id   BLOB   NOT NULL REFERENCES notification_groups (id) ON DELETE CASCADE,
    actor_id   BLOB   NOT NULL,
    -- The actor's own post (the reply, the quote, the mentioning post), or ''.
    subject_id TEXT   NOT NULL,
    at_us      BIGINT NOT NULL,
    PRIMARY KEY (group_id, actor_id)
);
CREATE INDEX notification_actors_latest_idx ON notification_actors (group_id, at_us DESC);
CREATE INDEX notification_actors_subject_idx
    ON notification_actors (subject_id) WHERE subject_id <> '';

-- Unread groups per recipient and folder, kept in the transactions that change them,
-- so the unread count is one primary-key read.
CREATE TABLE notification_unread (
    recipient_id BLOB   NOT NULL,
    folder       TEXT   NOT NULL,
    unread       BIGINT NOT NULL,
    PRIMARY KEY (recipient_id, folder)
);

-- Per-user filters (Mastodon's notification policies): filtered notifications go to
-- the 'requests' folder instead of being dropped.
CREATE TABLE notification_policies (
    user_id              BLOB    PRIMARY KEY,
    filter_not_following BOOLEAN NOT NULL,
    updated_us           BIGINT  NOT NULL
);
