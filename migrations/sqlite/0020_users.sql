-- Profiles, settings and account lifecycle (nova-user). The account row itself
-- (`users`) belongs to identity; profiles and settings hang off it, one row each,
-- created on first change (absent rows mean defaults).
CREATE TABLE user_profiles (
    user_id         BLOB        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name    TEXT        NOT NULL,
    bio             TEXT        NOT NULL,
    avatar_media_id BLOB,
    banner_media_id BLOB,
    links           TEXT        NOT NULL, -- JSON array of URLs
    pronouns        TEXT        NOT NULL,
    pinned_post_id  BLOB,
    updated_at      TEXT        NOT NULL
);

CREATE TABLE user_settings (
    user_id            BLOB        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    private_account    INTEGER     NOT NULL,
    message_policy     TEXT        NOT NULL,
    discoverable       INTEGER     NOT NULL,
    hide_follow_counts INTEGER     NOT NULL,
    hide_follow_lists  INTEGER     NOT NULL,
    notifications      TEXT        NOT NULL, -- JSON object of preferences
    updated_at         TEXT        NOT NULL
);

-- A changed username stays taken for a while so nobody can impersonate its old owner.
CREATE TABLE username_reservations (
    username_key   TEXT        PRIMARY KEY,
    user_id        BLOB        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reserved_until TEXT        NOT NULL
);
CREATE INDEX username_reservations_user_idx ON username_reservations (user_id);

-- Lifecycle (seed migration 114: who deleted an account, and why).
ALTER TABLE users ADD COLUMN deactivated_at TEXT       ;
ALTER TABLE users ADD COLUMN deleted_by BLOB;
ALTER TABLE users ADD COLUMN deleted_by_kind TEXT;
ALTER TABLE users ADD COLUMN deleted_reason TEXT;
