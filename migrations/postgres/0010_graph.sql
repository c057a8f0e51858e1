-- Graph: directed follow / block / mute edges between users, and stored follow counts.
--
-- Edges reference users by id only (no foreign key to `users`): the graph may live in
-- its own database (graph-service) or in a Cypher engine, and account removal reaches
-- it through events. Each edge table's primary key serves lookups from the acting
-- side; a second index serves the other direction.

CREATE TABLE follows (
    follower_id UUID        NOT NULL,
    followee_id UUID        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- followers(user) pages, newest first: (followee, created_at DESC, follower DESC).
CREATE INDEX follows_followee_idx ON follows (followee_id, created_at DESC, follower_id DESC);
-- following(user) pages, newest first.
CREATE INDEX follows_follower_idx ON follows (follower_id, created_at DESC, followee_id DESC);

CREATE TABLE blocks (
    blocker_id UUID        NOT NULL,
    blocked_id UUID        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id, blocker_id);

CREATE TABLE mutes (
    muter_id     UUID        NOT NULL,
    muted_id     UUID        NOT NULL,
    -- NULL: until unmuted; otherwise the mute stops applying at this instant.
    until        TIMESTAMPTZ,
    reposts_only BOOLEAN     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (muter_id, muted_id),
    CHECK (muter_id <> muted_id)
);
CREATE INDEX mutes_muted_idx ON mutes (muted_id, muter_id);

-- Exactly COUNT(*) of `follows` per side: changed in the transaction that changes an
-- edge, and only when the edge insert/delete changed a row. Every graph write first
-- upserts the two users' rows in id order, which serialises writes touching a user.
CREATE TABLE follow_counts (
    user_id   UUID   PRIMARY KEY,
    followers BIGINT NOT NULL DEFAULT 0 CHECK (followers >= 0),
    following BIGINT NOT NULL DEFAULT 0 CHECK (following >= 0)
);
