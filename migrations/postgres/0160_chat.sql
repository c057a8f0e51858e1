-- Chat (issue 17): conversations and members, who may DM whom, end-to-end encrypted
-- message metadata (seed migration 119: ciphertext only, never plaintext), per-device
-- inboxes with a cursor, receipts, archiving and mute (seed migration 117). Times are
-- Unix microseconds, so they compare the same on both engines.

CREATE TABLE chat_conversations (
    id              UUID        PRIMARY KEY,
    kind            TEXT        NOT NULL,          -- 'direct' or 'group'
    direct_key      TEXT        UNIQUE,            -- '<low user>:<high user>' for direct, NULL for groups
    title           TEXT        NOT NULL,
    avatar_media_id TEXT        NOT NULL,
    created_by      UUID        NOT NULL,
    member_version  BIGINT      NOT NULL,          -- grows on every membership change
    last_message_id BIGINT      NOT NULL,
    created_us      BIGINT      NOT NULL,
    updated_us      BIGINT      NOT NULL
);

CREATE TABLE chat_members (
    conversation_id UUID        NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    user_id         UUID        NOT NULL,
    role            TEXT        NOT NULL,          -- 'owner', 'admin' or 'member'
    joined_us       BIGINT      NOT NULL,
    archived        BOOLEAN     NOT NULL,
    keep_archived   BOOLEAN     NOT NULL,
    muted_until_us  BIGINT,
    read_up_to      BIGINT      NOT NULL,
    delivered_up_to BIGINT      NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX chat_members_user_idx ON chat_members (user_id);

CREATE TABLE chat_dm_settings (
    user_id    UUID        PRIMARY KEY,
    allow      TEXT        NOT NULL,               -- 'everyone', 'following' or 'nobody'
    updated_us BIGINT      NOT NULL
);

-- One row per message (or encrypted edit, delete, reaction); no content.
CREATE TABLE chat_messages (
    id               BIGSERIAL   PRIMARY KEY,
    conversation_id  UUID        NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    sender_user_id   UUID        NOT NULL,
    sender_device_id TEXT        NOT NULL,
    idempotency_key  TEXT        NOT NULL,
    kind             TEXT        NOT NULL,
    created_us       BIGINT      NOT NULL,
    UNIQUE (sender_user_id, idempotency_key)
);
CREATE INDEX chat_messages_conversation_idx ON chat_messages (conversation_id, id);

-- The ciphertexts of a message: one Megolm ciphertext for a group, or one Olm message
-- per recipient device (recipient kept so history hands each device its own).
CREATE TABLE chat_envelopes (
    message_id          BIGINT  NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    idx                 INTEGER NOT NULL,
    algorithm           TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,
    ciphertext          BYTEA   NOT NULL,
    recipient_user_id   UUID,
    recipient_device_id TEXT,
    PRIMARY KEY (message_id, idx)
);

-- Each device's queue position: last_seq is the newest entry, acked_seq what it confirmed.
CREATE TABLE chat_devices (
    user_id   UUID   NOT NULL,
    device_id TEXT   NOT NULL,
    last_seq  BIGINT NOT NULL,
    acked_seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Undelivered envelopes per device, in the device's own contiguous sequence.
CREATE TABLE chat_inbox (
    user_id      UUID        NOT NULL,
    device_id    TEXT        NOT NULL,
    seq          BIGINT      NOT NULL,
    message_id   BIGINT      NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    envelope_idx INTEGER     NOT NULL,
    expires_us   BIGINT      NOT NULL,
    PRIMARY KEY (user_id, device_id, seq)
);
CREATE INDEX chat_inbox_message_idx ON chat_inbox (message_id);
CREATE INDEX chat_inbox_expiry_idx ON chat_inbox (expires_us);
