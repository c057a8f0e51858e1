//! The passkey part of the identity store: WebAuthn credentials and the ceremonies that
//! register and use them. [`IdentityStore`](super::IdentityStore) includes it, so the
//! service reaches both through one `Arc<dyn IdentityStore>`.

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, SessionId, Timestamp, UserId};
use nova_db::{DbResultExt, is_unique_violation, on_db};
use nova_events::{AppendEvents, EventEnvelope};

use super::{RefreshRecord, SessionRecord, SqlIdentityStore};
use crate::model::PasskeyId;

/// A passkey row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRecord {
    /// Id.
    pub id: PasskeyId,
    /// The WebAuthn credential id (unique across accounts).
    pub credential_id: Vec<u8>,
    /// Owner.
    pub user_id: UserId,
    /// The name its owner gave it.
    pub name: String,
    /// webauthn-rs's serialised `Passkey` (public key, sign count, flags), JSON.
    pub passkey: String,
    /// Signature counter last accepted.
    pub sign_count: i64,
    /// Backup eligible (a synced passkey).
    pub backup_eligible: bool,
    /// Backed up now.
    pub backed_up: bool,
    /// Space-separated transports.
    pub transports: String,
    /// The session that registered it.
    pub created_session_id: Option<SessionId>,
    /// Registered.
    pub created_at: Timestamp,
    /// Last sign-in with it.
    pub last_used_at: Option<Timestamp>,
    /// Last refused assertion whose counter did not move forward.
    pub clone_warning_at: Option<Timestamp>,
}

/// What a passkey ceremony is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Registering a passkey for a signed-in user.
    Register,
    /// Signing in to a named account.
    Login,
    /// Signing in without a name (discoverable credential).
    Discoverable,
}

impl CeremonyKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Login => "login",
            CeremonyKind::Discoverable => "discoverable",
        }
    }

    /// From the stored text.
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "register" => Some(CeremonyKind::Register),
            "login" => Some(CeremonyKind::Login),
            "discoverable" => Some(CeremonyKind::Discoverable),
            _ => None,
        }
    }
}

/// A ceremony in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CeremonyRecord {
    /// SHA-256 of the opaque ceremony handle given to the client.
    pub ceremony_hash: Vec<u8>,
    /// [`CeremonyKind::as_str`].
    pub kind: String,
    /// The account (registration, named sign-in); `None` for a discoverable sign-in.
    pub user_id: Option<UserId>,
    /// The session that started a registration.
    pub session_id: Option<SessionId>,
    /// webauthn-rs's ceremony state (the challenge), JSON.
    pub state: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// A verified assertion: the passkey's new state, written with the session it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    /// The passkey.
    pub id: PasskeyId,
    /// Its updated serialised form.
    pub passkey: String,
    /// The counter the assertion carried (0: the authenticator keeps none).
    pub sign_count: i64,
    /// Backup eligible.
    pub backup_eligible: bool,
    /// Backed up.
    pub backed_up: bool,
    /// When.
    pub used_at: Timestamp,
}

/// The answer to [`PasskeyStore::delete_passkey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyRemoval {
    /// Deleted; these active sessions had been opened with it.
    Removed(Vec<SessionId>),
    /// Not one of the user's passkeys.
    NotFound,
    /// Refused: the account has no password, no linked provider and no other passkey.
    LastSignInMethod,
}

const PASSKEY_COLUMNS: &str = "id, credential_id, user_id, name, passkey, sign_count, \
     backup_eligible, backed_up, transports, created_session_id, created_at, last_used_at, \
     clone_warning_at";
const CEREMONY_COLUMNS: &str =
    "ceremony_hash, kind, user_id, session_id, state, created_at, expires_at";

/// Passkey storage. Every method is one transaction.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a ceremony (and drops expired ones).
    async fn save_ceremony(&self, ceremony: &CeremonyRecord) -> Result<()>;
    /// Takes (deletes and returns) a live ceremony: each can be finished once.
    async fn take_ceremony(&self, hash: &[u8], now: Timestamp) -> Result<Option<CeremonyRecord>>;
    /// Stores a new passkey; `Conflict` naming `credential` when its credential id is
    /// already registered (to anyone).
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<()>;
    /// A user's passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>>;
    /// A passkey by credential id.
    async fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyRecord>>;
    /// Renames one of `user`'s passkeys; whether it was theirs.
    async fn rename_passkey(&self, user: UserId, id: PasskeyId, name: &str) -> Result<bool>;
    /// Deletes one of `user`'s passkeys unless it is the account's last way to sign in
    /// (no password, no linked provider, no other passkey).
    async fn delete_passkey(&self, user: UserId, id: PasskeyId) -> Result<PasskeyRemoval>;
    /// Records a refused assertion whose signature counter did not move forward.
    async fn record_clone_warning(&self, id: PasskeyId, now: Timestamp) -> Result<()>;
    /// Accepts a verified assertion and opens its session, in one transaction: the
    /// passkey's counter must move forward (or both be 0, an authenticator without a
    /// counter); otherwise nothing is written and the answer is `false` (a concurrent or
    /// replayed use of a cloned key).
    async fn create_passkey_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        used: &PasskeyUse,
        events: &[EventEnvelope],
    ) -> Result<bool>;
}

#[async_trait]
impl PasskeyStore for SqlIdentityStore {
    async fn save_ceremony(&self, c: &CeremonyRecord) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
                .bind(c.created_at)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query(
                "INSERT INTO passkey_ceremonies (ceremony_hash, kind, user_id, session_id, state, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&c.ceremony_hash)
            .bind(&c.kind)
            .bind(c.user_id)
            .bind(c.session_id)
            .bind(&c.state)
            .bind(c.created_at)
            .bind(c.expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
        });
        Ok(())
    }

    async fn take_ceremony(&self, hash: &[u8], now: Timestamp) -> Result<Option<CeremonyRecord>> {
        // One statement: two concurrent finishes cannot both take it.
        let sql = format!(
            "DELETE FROM passkey_ceremonies WHERE ceremony_hash = $1 RETURNING {CEREMONY_COLUMNS}"
        );
        let taken: Option<CeremonyRecord> = on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(c)
            .await
            .db())?;
        Ok(taken.filter(|c| c.expires_at > now))
    }

    async fn insert_passkey(&self, p: &PasskeyRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO passkeys ({PASSKEY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        let inserted = on_db!(&self.db, write, |c| sqlx::query(&sql)
            .bind(p.id)
            .bind(&p.credential_id)
            .bind(p.user_id)
            .bind(&p.name)
            .bind(&p.passkey)
            .bind(p.sign_count)
            .bind(p.backup_eligible)
            .bind(p.backed_up)
            .bind(&p.transports)
            .bind(p.created_session_id)
            .bind(p.created_at)
            .bind(p.last_used_at)
            .bind(p.clone_warning_at)
            .execute(c)
            .await
            .map(|_| ()));
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(Error::new(
                ErrorKind::Conflict,
                "credential: this passkey is already registered",
            )),
            Err(e) => Err(nova_db::map_err(e)),
        }
    }

    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        );
        on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(c)
            .await
            .db())
    }

    async fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyRecord>> {
        let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1");
        // The writer: the counter just written by the previous sign-in must be seen.
        on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(credential_id)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn rename_passkey(&self, user: UserId, id: PasskeyId, name: &str) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2"
        )
        .bind(id)
        .bind(user)
        .bind(name)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() == 1))
    }

    async fn delete_passkey(&self, user: UserId, id: PasskeyId) -> Result<PasskeyRemoval> {
        let removal = on_db!(&self.db, tx, |tx| {
            let owned: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM passkeys WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            let password: Option<Option<String>> =
                sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            let providers: i64 =
                sqlx::query_scalar("SELECT count(*) FROM oauth_identities WHERE user_id = $1")
                    .bind(user)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
            let passkeys: i64 =
                sqlx::query_scalar("SELECT count(*) FROM passkeys WHERE user_id = $1")
                    .bind(user)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
            let has_password = password.flatten().is_some();
            if owned.is_none() {
                PasskeyRemoval::NotFound
            } else if !has_password && providers == 0 && passkeys <= 1 {
                PasskeyRemoval::LastSignInMethod
            } else {
                let sessions: Vec<SessionId> = sqlx::query_scalar(
                    "SELECT id FROM sessions WHERE passkey_id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await
                .db()?;
                sqlx::query("DELETE FROM passkeys WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                PasskeyRemoval::Removed(sessions)
            }
        });
        Ok(removal)
    }

    async fn record_clone_warning(&self, id: PasskeyId, now: Timestamp) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE passkeys SET clone_warning_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn create_passkey_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        used: &PasskeyUse,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let accepted = on_db!(&self.db, tx, |tx| {
            // Compare-and-set on the counter: of two assertions carrying the same count
            // (a clone, or one replayed concurrently) only one gets through.
            let updated = sqlx::query(
                "UPDATE passkeys SET passkey = $2, sign_count = $3, backup_eligible = $4, \
                 backed_up = $5, last_used_at = $6 \
                 WHERE id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))",
            )
            .bind(used.id)
            .bind(&used.passkey)
            .bind(used.sign_count)
            .bind(used.backup_eligible)
            .bind(used.backed_up)
            .bind(used.used_at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if updated == 1 {
                insert_session!(tx, session, refresh, Some(used.id));
                tx.append_events(events).await?;
            }
            updated == 1
        });
        Ok(accepted)
    }
}
