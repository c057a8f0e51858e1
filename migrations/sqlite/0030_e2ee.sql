-- End-to-end encryption key directory (issue 10). Only public keys, signatures and
-- ciphertext live here: private keys and plaintext never leave the clients.

-- A device's identity keys (Curve25519 + Ed25519), self-signed.
CREATE TABLE device_keys (
    user_id    BLOB        NOT NULL,
    device_id  TEXT        NOT NULL,
    curve25519 TEXT        NOT NULL,
    ed25519    TEXT        NOT NULL,
    signature  TEXT        NOT NULL,
    created_at TEXT        NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Signed one-time prekeys; a claim deletes the row it hands out (exactly once).
CREATE TABLE one_time_keys (
    id         INTEGER     PRIMARY KEY AUTOINCREMENT,
    user_id    BLOB        NOT NULL,
    device_id  TEXT        NOT NULL,
    key_id     TEXT        NOT NULL,
    public_key TEXT        NOT NULL,
    signature  TEXT        NOT NULL,
    created_at TEXT        NOT NULL,
    UNIQUE (user_id, device_id, key_id)
);
CREATE INDEX one_time_keys_device_idx ON one_time_keys (user_id, device_id, id);

-- One signed fallback key per device, handed out when the one-time pool is empty.
CREATE TABLE fallback_keys (
    user_id    BLOB        NOT NULL,
    device_id  TEXT        NOT NULL,
    key_id     TEXT        NOT NULL,
    public_key TEXT        NOT NULL,
    signature  TEXT        NOT NULL,
    created_at TEXT        NOT NULL,
    used_at    TEXT       ,
    PRIMARY KEY (user_id, device_id)
);

-- Who claimed which prekey of whom (X25519 key agreements started).
CREATE TABLE key_exchanges (
    id                INTEGER     PRIMARY KEY AUTOINCREMENT,
    claimer_user_id   BLOB        NOT NULL,
    claimer_device_id TEXT        NOT NULL,
    target_user_id    BLOB        NOT NULL,
    target_device_id  TEXT        NOT NULL,
    key_id            TEXT        NOT NULL,
    fallback          INTEGER     NOT NULL,
    claimed_at        TEXT        NOT NULL
);
CREATE INDEX key_exchanges_target_idx ON key_exchanges (target_user_id, target_device_id);

-- Grows whenever a user's device set changes, so clients notice new or removed devices.
CREATE TABLE device_list_versions (
    user_id    BLOB        PRIMARY KEY,
    version    BIGINT      NOT NULL,
    updated_at TEXT        NOT NULL
);

-- Message metadata and ciphertext; one row per recipient device in the inbox table.
CREATE TABLE e2ee_messages (
    id               INTEGER     PRIMARY KEY AUTOINCREMENT,
    sender_user_id   BLOB        NOT NULL,
    sender_device_id TEXT        NOT NULL,
    algorithm        TEXT        NOT NULL,
    session_id       TEXT        NOT NULL,
    ciphertext       BLOB        NOT NULL,
    created_at       TEXT        NOT NULL
);

CREATE TABLE e2ee_message_recipients (
    user_id    BLOB   NOT NULL,
    device_id  TEXT   NOT NULL,
    message_id BIGINT NOT NULL REFERENCES e2ee_messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, device_id, message_id)
);
CREATE INDEX e2ee_message_recipients_message_idx ON e2ee_message_recipients (message_id);
