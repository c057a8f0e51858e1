//! [`IdentityStore`] on PostgreSQL and SQLite: one set of queries, run through
//! [`on_db!`].

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, SessionId, Timestamp, UserId};
use nova_db::{Db, DbResultExt, is_unique_violation, on_db};
use nova_events::{AppendEvents, EventEnvelope};

use super::{
    AccountRecord, IdentityStore, OAuthFlow, OAuthIdentity, OneTimeToken, RefreshRecord,
    SessionRecord, TokenPurpose,
};

const ACCOUNT_COLUMNS: &str = "id, email, email_verified_at, username, password_hash, \
     totp_secret_enc, totp_enabled_at, totp_last_step, created_at";
const SESSION_COLUMNS: &str = "id, user_id, user_agent, ip, created_at, last_seen_at, revoked_at";
const REFRESH_COLUMNS: &str =
    "token_hash, session_id, issued_at, expires_at, rotated_at, replaced_by";

/// The identity store over a [`Db`].
#[derive(Debug, Clone)]
pub struct SqlIdentityStore {
    pub(super) db: Db,
}

impl SqlIdentityStore {
    /// Over `db` (already migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// A unique violation on insert, as the field the client should fix.
fn taken(err: sqlx::Error) -> Error {
    if !is_unique_violation(&err) {
        return nova_db::map_err(err);
    }
    let detail = err.to_string();
    let field = if detail.contains("email") {
        "email"
    } else {
        "username"
    };
    Error::new(
        ErrorKind::Conflict,
        format!("{field}: is already registered"),
    )
}

macro_rules! insert_account {
    ($tx:expr, $a:expr) => {
        sqlx::query(
            "INSERT INTO users (id, email, email_verified_at, username, username_key, password_hash, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind($a.id)
        .bind(&$a.email)
        .bind($a.email_verified_at)
        .bind(&$a.username)
        .bind($a.username.to_lowercase())
        .bind(&$a.password_hash)
        .bind($a.created_at)
        .execute(&mut *$tx)
        .await
        .map_err(taken)
        .map(|_| ())
    };
}

macro_rules! upsert_identity {
    ($exec:expr, $identity:expr) => {
        sqlx::query(
            "INSERT INTO oauth_identities (provider, subject, user_id, email, access_token_enc, \
             refresh_token_enc, key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (provider, subject) DO UPDATE SET email = EXCLUDED.email, \
             access_token_enc = EXCLUDED.access_token_enc, \
             refresh_token_enc = COALESCE(EXCLUDED.refresh_token_enc, oauth_identities.refresh_token_enc), \
             key_id = EXCLUDED.key_id, updated_at = EXCLUDED.updated_at",
        )
        .bind(&$identity.provider)
        .bind(&$identity.subject)
        .bind($identity.user_id)
        .bind(&$identity.email)
        .bind(&$identity.access_token_enc)
        .bind(&$identity.refresh_token_enc)
        .bind(&$identity.key_id)
        .bind($identity.created_at)
        .bind($identity.updated_at)
        .execute($exec)
        .await
        .db()
        .map(|_| ())
    };
}

#[async_trait]
impl IdentityStore for SqlIdentityStore {
    async fn create_account(
        &self,
        account: &AccountRecord,
        verification: &OneTimeToken,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            // A username its previous owner gave up recently is still theirs.
            let reserved: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM username_reservations \
                     WHERE username_key = $1 AND reserved_until > $2",
            )
            .bind(account.username.to_lowercase())
            .bind(account.created_at)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            if reserved.is_some() {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "username: is already registered",
                ));
            }
            insert_account!(tx, account)?;
            sqlx::query(
                "INSERT INTO one_time_tokens (token_hash, user_id, purpose, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&verification.token_hash)
            .bind(verification.user_id)
            .bind(verification.purpose.as_str())
            .bind(verification.created_at)
            .bind(verification.expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn account_by_id(&self, id: UserId) -> Result<Option<AccountRecord>> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL");
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<AccountRecord>> {
        // CAST AS CITEXT: case-insensitive on PostgreSQL; on SQLite "CITEXT" has TEXT
        // affinity and the column's NOCASE collation applies.
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users WHERE email = CAST($1 AS CITEXT) AND deleted_at IS NULL"
        );
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users WHERE username_key = $1 AND deleted_at IS NULL"
        );
        let key = username.to_lowercase();
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(&key)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn update_password_hash(&self, user: UserId, hash: &str, now: Timestamp) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1"
        )
        .bind(user)
        .bind(hash)
        .bind(now)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn set_password(
        &self,
        user: UserId,
        hash: &str,
        revoke: &[SessionId],
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user)
                .bind(hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            for id in revoke {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $2, revoked_reason = 'password_changed' \
                     WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(*id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn insert_one_time_token(&self, token: &OneTimeToken) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&token.token_hash)
        .bind(token.user_id)
        .bind(token.purpose.as_str())
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn consume_one_time_token(
        &self,
        hash: &[u8],
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<UserId>> {
        // One statement: two concurrent uses cannot both succeed.
        on_db!(&self.db, write, |c| sqlx::query_scalar(
            "UPDATE one_time_tokens SET used_at = $3 \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
             RETURNING user_id"
        )
        .bind(hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(c)
        .await
        .db())
    }

    async fn mark_email_verified(
        &self,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 \
                 WHERE id = $1",
            )
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            insert_session!(tx, session, refresh, None::<crate::model::PasskeyId>);
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn active_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC"
        );
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(c)
            .await
            .db())
    }

    async fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshRecord>> {
        let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
        // The writer sees its own latest rotation (reuse detection must not read stale).
        on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn current_refresh_token(&self, session: SessionId) -> Result<Option<RefreshRecord>> {
        let sql = format!(
            "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL"
        );
        on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(session)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn rotate_refresh_token(
        &self,
        old: &[u8],
        new: &RefreshRecord,
        now: Timestamp,
    ) -> Result<bool> {
        let rotated = on_db!(&self.db, tx, |tx| {
            let updated = sqlx::query(
                "UPDATE refresh_tokens SET rotated_at = $2, replaced_by = $3 \
                 WHERE token_hash = $1 AND rotated_at IS NULL",
            )
            .bind(old)
            .bind(now)
            .bind(&new.token_hash)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if updated == 1 {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&new.token_hash)
                .bind(new.session_id)
                .bind(new.issued_at)
                .bind(new.expires_at)
                .execute(&mut *tx)
                .await
                .db()?;
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                    .bind(new.session_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            updated == 1
        });
        Ok(rotated)
    }

    async fn revoke_sessions(
        &self,
        ids: &[SessionId],
        reason: &str,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<u64> {
        let ended = on_db!(&self.db, tx, |tx| {
            let mut ended = 0;
            for id in ids {
                ended += sqlx::query(
                    "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 \
                     WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(*id)
                .bind(now)
                .bind(reason)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            }
            if ended > 0 {
                tx.append_events(events).await?;
            }
            ended
        });
        Ok(ended)
    }

    async fn set_totp_secret(
        &self,
        user: UserId,
        secret_enc: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "UPDATE users SET totp_secret_enc = $2, totp_enabled_at = NULL, updated_at = $3 \
                 WHERE id = $1",
            )
            .bind(user)
            .bind(secret_enc)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            if secret_enc.is_none() {
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
        });
        Ok(())
    }

    async fn enable_totp(
        &self,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "UPDATE users SET totp_enabled_at = $2, totp_last_step = $3, updated_at = $2 \
                 WHERE id = $1",
            )
            .bind(user)
            .bind(now)
            .bind(step)
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await
                .db()?;
            for hash in recovery_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
        });
        Ok(())
    }

    async fn advance_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE users SET totp_last_step = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(user)
        .bind(step)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() == 1))
    }

    async fn recovery_codes(&self, user: UserId) -> Result<Vec<String>> {
        on_db!(&self.db, write, |c| sqlx::query_scalar(
            "SELECT code_hash FROM recovery_codes WHERE user_id = $1"
        )
        .bind(user)
        .fetch_all(c)
        .await
        .db())
    }

    async fn delete_recovery_code(&self, user: UserId, hash: &str) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2"
        )
        .bind(user)
        .bind(hash)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() == 1))
    }

    async fn reserve_second_factor_attempt(
        &self,
        user: UserId,
        now: Timestamp,
        max: i32,
        lock_until: Timestamp,
    ) -> Result<Option<Timestamp>> {
        // One statement: the SET expressions read the row as it was, and the row lock
        // (PostgreSQL) or the single writer (SQLite) orders concurrent reservations.
        let reserved: Option<UserId> = on_db!(&self.db, write, |c| {
            sqlx::query_scalar(
            "UPDATE users SET \
             second_factor_failures = CASE WHEN second_factor_failures + 1 >= $3 THEN 0 \
                 ELSE second_factor_failures + 1 END, \
             second_factor_locked_until = CASE WHEN second_factor_failures + 1 >= $3 THEN $4 \
                 ELSE NULL END \
             WHERE id = $1 AND (second_factor_locked_until IS NULL OR second_factor_locked_until <= $2) \
             RETURNING id"
        )
        .bind(user)
        .bind(now)
        .bind(max)
        .bind(lock_until)
        .fetch_optional(c)
        .await
        .db()
        })?;
        if reserved.is_some() {
            return Ok(None);
        }
        let locked: Option<Option<Timestamp>> = on_db!(&self.db, write, |c| sqlx::query_scalar(
            "SELECT second_factor_locked_until FROM users WHERE id = $1"
        )
        .bind(user)
        .fetch_optional(c)
        .await
        .db())?;
        // A missing account is as locked as it gets.
        Ok(Some(locked.flatten().unwrap_or(now)))
    }

    async fn set_suspension(
        &self,
        user: UserId,
        action: &str,
        until: Option<Timestamp>,
    ) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE users SET suspension_action = $2, suspended_until = $3 WHERE id = $1"
        )
        .bind(user)
        .bind(action)
        .bind(until)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn lift_suspension(&self, user: UserId, action: &str) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE users SET suspension_action = NULL, suspended_until = NULL \
             WHERE id = $1 AND suspension_action = $2"
        )
        .bind(user)
        .bind(action)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() > 0))
    }

    async fn suspended(&self, user: UserId, now: Timestamp) -> Result<bool> {
        let found: Option<i32> = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT 1 FROM users WHERE id = $1 AND suspension_action IS NOT NULL \
             AND (suspended_until IS NULL OR suspended_until > $2)"
        )
        .bind(user)
        .bind(now)
        .fetch_optional(c)
        .await
        .db())?;
        Ok(found.is_some())
    }

    async fn roles(&self, user: UserId) -> Result<Vec<String>> {
        let roles: Option<String> = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT roles FROM users WHERE id = $1 AND deleted_at IS NULL"
        )
        .bind(user)
        .fetch_optional(c)
        .await
        .db())?;
        Ok(split_roles(roles.as_deref().unwrap_or_default()))
    }

    async fn set_role(
        &self,
        user: UserId,
        role: &str,
        granted: bool,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let changed = on_db!(&self.db, tx, |tx| {
            let current: Option<String> =
                sqlx::query_scalar("SELECT roles FROM users WHERE id = $1 AND deleted_at IS NULL")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            let Some(current) = current else {
                return Err(Error::not_found());
            };
            let mut roles = split_roles(&current);
            let had = roles.iter().any(|r| r == role);
            if had == granted {
                false
            } else {
                if granted {
                    roles.push(role.to_owned());
                    roles.sort();
                } else {
                    roles.retain(|r| r != role);
                }
                // Compare-and-set: a concurrent change makes this one retry-free no-op.
                let updated = sqlx::query(
                    "UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1 AND roles = $4",
                )
                .bind(user)
                .bind(roles.join(" "))
                .bind(now)
                .bind(&current)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
                if updated == 0 {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        "roles: changed concurrently, try again",
                    ));
                }
                tx.append_events(events).await?;
                true
            }
        });
        Ok(changed)
    }

    async fn clear_second_factor_failures(&self, user: UserId) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE users SET second_factor_failures = 0, second_factor_locked_until = NULL \
             WHERE id = $1"
        )
        .bind(user)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn create_challenge(
        &self,
        hash: &[u8],
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO login_challenges (challenge_hash, user_id, expires_at, attempts) \
             VALUES ($1, $2, $3, 0)"
        )
        .bind(hash)
        .bind(user)
        .bind(expires_at)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn attempt_challenge(
        &self,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(UserId, i32)>> {
        on_db!(&self.db, write, |c| sqlx::query_as(
            "UPDATE login_challenges SET attempts = attempts + 1 \
             WHERE challenge_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING user_id, attempts"
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(c)
        .await
        .db())
    }

    async fn consume_challenge(&self, hash: &[u8], now: Timestamp) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE login_challenges SET used_at = $2 WHERE challenge_hash = $1 AND used_at IS NULL"
        )
        .bind(hash)
        .bind(now)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() == 1))
    }

    async fn save_oauth_flow(&self, flow: &OAuthFlow) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO oauth_flows (state_hash, provider, nonce, pkce_verifier, redirect_uri, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&flow.state_hash)
        .bind(&flow.provider)
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier)
        .bind(&flow.redirect_uri)
        .bind(flow.created_at)
        .bind(flow.expires_at)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn take_oauth_flow(
        &self,
        state_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<OAuthFlow>> {
        let flow: Option<OAuthFlow> = on_db!(&self.db, write, |c| {
            sqlx::query_as(
            "DELETE FROM oauth_flows WHERE state_hash = $1 RETURNING state_hash, provider, nonce, \
             pkce_verifier, redirect_uri, created_at, expires_at"
        )
        .bind(state_hash)
        .fetch_optional(c)
        .await
        .db()
        })?;
        Ok(flow.filter(|f| f.expires_at > now))
    }

    async fn oauth_identity(&self, provider: &str, subject: &str) -> Result<Option<OAuthIdentity>> {
        on_db!(&self.db, read, |c| {
            sqlx::query_as(
            "SELECT provider, subject, user_id, email, access_token_enc, refresh_token_enc, key_id, \
             created_at, updated_at FROM oauth_identities WHERE provider = $1 AND subject = $2"
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(c)
        .await
        .db()
        })
    }

    async fn upsert_oauth_identity(&self, identity: &OAuthIdentity) -> Result<()> {
        on_db!(&self.db, write, |c| upsert_identity!(c, identity))
    }

    async fn create_oauth_account(
        &self,
        account: &AccountRecord,
        identity: &OAuthIdentity,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            insert_account!(tx, account)?;
            upsert_identity!(&mut *tx, identity)?;
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn signing_keys(&self) -> Result<Vec<(String, String)>> {
        on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT kid, private_key_pem FROM signing_keys ORDER BY created_at, kid"
        )
        .fetch_all(c)
        .await
        .db())
    }

    async fn insert_signing_key(&self, kid: &str, stored: &str, now: Timestamp) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kid) DO NOTHING"
        )
        .bind(kid)
        .bind(stored)
        .bind(now)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn reseal_signing_key(&self, kid: &str, old: &str, stored: &str) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE signing_keys SET private_key_pem = $3 WHERE kid = $1 AND private_key_pem = $2"
        )
        .bind(kid)
        .bind(old)
        .bind(stored)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }
}

/// Space-separated roles as a sorted list.
fn split_roles(roles: &str) -> Vec<String> {
    let mut out: Vec<String> = roles.split_whitespace().map(str::to_owned).collect();
    out.sort();
    out.dedup();
    out
}
