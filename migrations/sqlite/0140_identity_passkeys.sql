-- Identity (issue 26): passkeys (WebAuthn credentials) and their ceremonies.
-- `passkey` is webauthn-rs's serialised credential (public key, sign count, flags); the
-- columns beside it repeat what is listed and checked without parsing it.
CREATE TABLE passkeys (
    id                 BLOB        PRIMARY KEY,
    credential_id      BLOB        NOT NULL UNIQUE,
    user_id            BLOB        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name               TEXT        NOT NULL,
    passkey            TEXT        NOT NULL,
    sign_count         BIGINT      NOT NULL,
    backup_eligible    BOOLEAN     NOT NULL,
    backed_up          BOOLEAN     NOT NULL,
    -- space-separated: usb nfc ble internal hybrid
    transports         TEXT        NOT NULL,
    -- the session that registered it
    created_session_id BLOB,
    created_at         TEXT        NOT NULL,
    last_used_at       TEXT       ,
    -- the last refused assertion whose sign count did not move forward (a cloned key?)
    clone_warning_at   TEXT       
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);

-- The passkey a session was opened with (its owner may end them with the passkey).
ALTER TABLE sessions ADD COLUMN passkey_id BLOB REFERENCES passkeys (id) ON DELETE SET NULL;
CREATE INDEX sessions_passkey_idx ON sessions (passkey_id);

-- A registration or sign-in in progress: webauthn-rs's state (the challenge), single use,
-- expiring; a registration is bound to the session that started it.
CREATE TABLE passkey_ceremonies (
    ceremony_hash BLOB        PRIMARY KEY,
    kind          TEXT        NOT NULL,
    user_id       BLOB        REFERENCES users (id) ON DELETE CASCADE,
    session_id    BLOB,
    state         TEXT        NOT NULL,
    created_at    TEXT        NOT NULL,
    expires_at    TEXT        NOT NULL
);
CREATE INDEX passkey_ceremonies_user_idx ON passkey_ceremonies (user_id);
CREATE INDEX passkey_ceremonies_expiry_idx ON passkey_ceremonies (expires_at);
