//! The identity Store port and its records.
//!
//! One SQL adapter ([`SqlIdentityStore`]) serves PostgreSQL and SQLite: the queries are
//! the same text on both (`$n` placeholders, CITEXT / `COLLATE NOCASE` in the schema), and
//! [`nova_db::on_db!`] type-checks each against its own driver. The conformance suites in
//! `tests/store.rs` and `tests/passkey_store.rs` run on both engines.

/// Inserts a session and its first refresh token in the transaction `$tx` of an
/// [`on_db!`](nova_db::on_db) arm: `$passkey` is the passkey that opened it, `None` for
/// every other sign-in. One text for both paths, so the two cannot drift.
macro_rules! insert_session {
    ($tx:expr, $session:expr, $refresh:expr, $passkey:expr) => {{
        sqlx::query(
            "INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_seen_at, \
             passkey_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($session.id)
        .bind($session.user_id)
        .bind(&$session.user_agent)
        .bind(&$session.ip)
        .bind($session.created_at)
        .bind($session.last_seen_at)
        .bind($passkey)
        .execute(&mut *$tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&$refresh.token_hash)
        .bind($refresh.session_id)
        .bind($refresh.issued_at)
        .bind($refresh.expires_at)
        .execute(&mut *$tx)
        .await
        .db()?;
    }};
}

mod passkeys;
mod sql;

use async_trait::async_trait;
use nova_core::{Result, SessionId, Timestamp, UserId};
use nova_events::EventEnvelope;

pub use passkeys::{
    CeremonyKind, CeremonyRecord, PasskeyRecord, PasskeyRemoval, PasskeyStore, PasskeyUse,
};
pub use sql::SqlIdentityStore;

/// An account row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRecord {
    /// Id.
    pub id: UserId,
    /// Email (case-insensitive unique).
    pub email: String,
    /// When verified.
    pub email_verified_at: Option<Timestamp>,
    /// Username as chosen.
    pub username: String,
    /// argon2id PHC string; `None` for accounts created through OAuth.
    pub password_hash: Option<String>,
    /// Encrypted TOTP secret (pending or active).
    pub totp_secret_enc: Option<String>,
    /// When TOTP was confirmed; `None` while pending or off.
    pub totp_enabled_at: Option<Timestamp>,
    /// Last accepted TOTP time step (replay protection).
    pub totp_last_step: Option<i64>,
    /// Created.
    pub created_at: Timestamp,
}

/// A session row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// User agent at login.
    pub user_agent: String,
    /// IP at login.
    pub ip: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last refresh.
    pub last_seen_at: Timestamp,
    /// When ended.
    pub revoked_at: Option<Timestamp>,
}

/// A refresh token row (hash only).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Its session (= token family).
    pub session_id: SessionId,
    /// Issued.
    pub issued_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
    /// When it was exchanged for its successor.
    pub rotated_at: Option<Timestamp>,
    /// The successor's hash.
    pub replaced_by: Option<Vec<u8>>,
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Email verification link.
    VerifyEmail,
    /// Password reset link.
    PasswordReset,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::PasswordReset => "password_reset",
        }
    }
}

/// A one-time token row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Owner.
    pub user_id: UserId,
    /// Purpose.
    pub purpose: TokenPurpose,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// An OAuth login in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthFlow {
    /// SHA-256 of the state.
    pub state_hash: Vec<u8>,
    /// Provider name.
    pub provider: String,
    /// Nonce expected in the ID token.
    pub nonce: String,
    /// PKCE code verifier.
    pub pkce_verifier: String,
    /// Redirect URI used in the authorization request.
    pub redirect_uri: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// A provider account linked to a Nova account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthIdentity {
    /// Provider name.
    pub provider: String,
    /// The provider's subject (`sub`).
    pub subject: String,
    /// The Nova account.
    pub user_id: UserId,
    /// Email the provider vouched for.
    pub email: Option<String>,
    /// Encrypted provider access token.
    pub access_token_enc: Option<String>,
    /// Encrypted provider refresh token.
    pub refresh_token_enc: Option<String>,
    /// Encryption key id.
    pub key_id: String,
    /// Linked.
    pub created_at: Timestamp,
    /// Last login through it.
    pub updated_at: Timestamp,
}

/// Identity storage. Every method is one transaction; methods taking `events` write
/// them to the outbox in that transaction. Passkeys and their ceremonies are the
/// [`PasskeyStore`] part.
#[async_trait]
pub trait IdentityStore: PasskeyStore + Send + Sync {
    /// Inserts an account with its verification token. `Conflict` naming `email` or
    /// `username` when taken.
    async fn create_account(
        &self,
        account: &AccountRecord,
        verification: &OneTimeToken,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// An account by id (deleted ones are not returned).
    async fn account_by_id(&self, id: UserId) -> Result<Option<AccountRecord>>;
    /// An account by email, case-insensitively.
    async fn account_by_email(&self, email: &str) -> Result<Option<AccountRecord>>;
    /// An account by username, case-insensitively.
    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>>;
    /// Replaces the password hash only (re-hash on login).
    async fn update_password_hash(&self, user: UserId, hash: &str, now: Timestamp) -> Result<()>;
    /// Sets a new password and ends `revoke` sessions, with their events.
    async fn set_password(
        &self,
        user: UserId,
        hash: &str,
        revoke: &[SessionId],
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;

    /// Stores a one-time token.
    async fn insert_one_time_token(&self, token: &OneTimeToken) -> Result<()>;
    /// Uses a one-time token: its owner if it existed, had this purpose, was unused and
    /// unexpired; it can never be used again.
    async fn consume_one_time_token(
        &self,
        hash: &[u8],
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<UserId>>;
    /// Marks the email verified.
    async fn mark_email_verified(
        &self,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;

    /// Creates a session with its first refresh token.
    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// A session by id.
    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>>;
    /// A user's sessions that are not revoked, newest first.
    async fn active_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>>;
    /// A refresh token by hash.
    async fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshRecord>>;
    /// The current (not rotated) token of a session.
    async fn current_refresh_token(&self, session: SessionId) -> Result<Option<RefreshRecord>>;
    /// Replaces `old` (which must still be current) by `new` and touches the session;
    /// `false` when `old` was already rotated (a concurrent refresh won).
    async fn rotate_refresh_token(
        &self,
        old: &[u8],
        new: &RefreshRecord,
        now: Timestamp,
    ) -> Result<bool>;
    /// Ends those of `ids` that are still active, writing `events` in the same
    /// transaction; returns how many it ended.
    async fn revoke_sessions(
        &self,
        ids: &[SessionId],
        reason: &str,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<u64>;

    /// Stores a pending (unconfirmed) TOTP secret, or clears TOTP entirely with `None`.
    async fn set_totp_secret(
        &self,
        user: UserId,
        secret_enc: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;
    /// Confirms TOTP: enabled, last step recorded, recovery codes replaced.
    async fn enable_totp(
        &self,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> Result<()>;
    /// Records `step` as used; `false` if it (or a later one) already was.
    async fn advance_totp_step(&self, user: UserId, step: i64) -> Result<bool>;
    /// The user's unused recovery code hashes.
    async fn recovery_codes(&self, user: UserId) -> Result<Vec<String>>;
    /// Uses one recovery code; `false` if it was already gone.
    async fn delete_recovery_code(&self, user: UserId, hash: &str) -> Result<bool>;

    /// Reserves one second-factor attempt before a code is checked, so concurrent guesses
    /// cannot overrun the budget: `None` when allowed (it counts as a failure until
    /// [`clear_second_factor_failures`](Self::clear_second_factor_failures)), or the time
    /// the factor is locked until. The `max`-th reservation sets the lock to `lock_until`
    /// (and starts the count again).
    async fn reserve_second_factor_attempt(
        &self,
        user: UserId,
        now: Timestamp,
        max: i32,
        lock_until: Timestamp,
    ) -> Result<Option<Timestamp>>;
    /// A second factor passed: failures forgotten, lock lifted.
    async fn clear_second_factor_failures(&self, user: UserId) -> Result<()>;

    /// Stores a two-factor login challenge.
    async fn create_challenge(
        &self,
        hash: &[u8],
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Counts an attempt on a live challenge: its user and attempts so far (after this one),
    /// or `None` when missing, used or expired.
    async fn attempt_challenge(&self, hash: &[u8], now: Timestamp)
    -> Result<Option<(UserId, i32)>>;
    /// Marks a challenge used; `false` if it already was.
    async fn consume_challenge(&self, hash: &[u8], now: Timestamp) -> Result<bool>;

    /// Stores an OAuth flow.
    async fn save_oauth_flow(&self, flow: &OAuthFlow) -> Result<()>;
    /// Takes (deletes and returns) a live flow by state hash.
    async fn take_oauth_flow(&self, state_hash: &[u8], now: Timestamp)
    -> Result<Option<OAuthFlow>>;
    /// A linked provider identity.
    async fn oauth_identity(&self, provider: &str, subject: &str) -> Result<Option<OAuthIdentity>>;
    /// Links (or refreshes the tokens of) a provider identity.
    async fn upsert_oauth_identity(&self, identity: &OAuthIdentity) -> Result<()>;
    /// Creates an account for a provider identity (no password, email verified).
    async fn create_oauth_account(
        &self,
        account: &AccountRecord,
        identity: &OAuthIdentity,
        events: &[EventEnvelope],
    ) -> Result<()>;

    /// Generated signing keys, oldest first: `(kid, stored private key)`; the service
    /// stores them sealed under the key-encryption key (older rows hold a plain PEM).
    async fn signing_keys(&self) -> Result<Vec<(String, String)>>;
    /// Stores a generated key unless one with the same kid exists.
    async fn insert_signing_key(&self, kid: &str, stored: &str, now: Timestamp) -> Result<()>;
    /// Replaces a key's stored form if it is still `old` (sealing a plain PEM once).
    async fn reseal_signing_key(&self, kid: &str, old: &str, stored: &str) -> Result<()>;

    /// Records a suspension (trust & safety's `action`, lapsing at `until`; `None`: until
    /// lifted) on an account.
    async fn set_suspension(
        &self,
        user: UserId,
        action: &str,
        until: Option<Timestamp>,
    ) -> Result<()>;
    /// Lifts the suspension `action` (a later one stays); whether it was in force.
    async fn lift_suspension(&self, user: UserId, action: &str) -> Result<bool>;
    /// Whether the account is suspended at `now`.
    async fn suspended(&self, user: UserId, now: Timestamp) -> Result<bool>;
    /// The staff roles of a live account (`moderator`, `admin`), sorted; none for a
    /// missing account.
    async fn roles(&self, user: UserId) -> Result<Vec<String>>;
    /// Grants (`granted`) or revokes `role` on a live account, with `events` when it
    /// changed; whether it changed. `NotFound` for a missing account.
    async fn set_role(
        &self,
        user: UserId,
        role: &str,
        granted: bool,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
}
