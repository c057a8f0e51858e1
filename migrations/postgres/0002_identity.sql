-- Identity: accounts, sessions, refresh-token families, one-time tokens, second factors,
-- OAuth links and signing keys. Secrets are stored hashed (tokens, codes) or encrypted
-- (TOTP secrets, provider tokens); never in plain text.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id                UUID        PRIMARY KEY,
    email             CITEXT      NOT NULL UNIQUE,
    email_verified_at TIMESTAMPTZ,
    username          TEXT        NOT NULL,
    -- lower(username): uniqueness and lookups ignore case on both engines.
    username_key      TEXT        NOT NULL UNIQUE,
    password_hash     TEXT,
    totp_secret_enc   TEXT,
    totp_enabled_at   TIMESTAMPTZ,
    totp_last_step    BIGINT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    deleted_at        TIMESTAMPTZ
);

CREATE TABLE sessions (
    id             UUID        PRIMARY KEY,
    user_id        UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent     TEXT        NOT NULL,
    ip             TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- A session is a refresh-token family: exactly one token of it is current
-- (rotated_at IS NULL); older ones point at their successor.
CREATE TABLE refresh_tokens (
    token_hash   BYTEA       PRIMARY KEY,
    session_id   UUID        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at    TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    rotated_at   TIMESTAMPTZ,
    replaced_by  BYTEA
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Email verification and password reset links: single use, expiring, hashed.
CREATE TABLE one_time_tokens (
    token_hash BYTEA       PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);

CREATE TABLE recovery_codes (
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- Password accepted, second factor pending.
CREATE TABLE login_challenges (
    challenge_hash BYTEA       PRIMARY KEY,
    user_id        UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at     TIMESTAMPTZ NOT NULL,
    attempts       INTEGER     NOT NULL,
    used_at        TIMESTAMPTZ
);
CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);

CREATE TABLE oauth_identities (
    provider          TEXT        NOT NULL,
    subject           TEXT        NOT NULL,
    user_id           UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email             CITEXT,
    -- AES-256-GCM under key `key_id` (rotatable), base64(nonce || ciphertext).
    access_token_enc  TEXT,
    refresh_token_enc TEXT,
    key_id            TEXT        NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_user_idx ON oauth_identities (user_id);

-- An OAuth login in progress (state → nonce, PKCE verifier), single use.
CREATE TABLE oauth_flows (
    state_hash    BYTEA       PRIMARY KEY,
    provider      TEXT        NOT NULL,
    nonce         TEXT        NOT NULL,
    pkce_verifier TEXT        NOT NULL,
    redirect_uri  TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);

-- Generated signing keys of the embedded default (production configures PEM files).
CREATE TABLE signing_keys (
    kid             TEXT        PRIMARY KEY,
    private_key_pem TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
