//! Test fixtures for crates built on identity: accounts created straight in the store,
//! without password hashing or tokens (feature `fixtures`).

use chrono::{Duration, Utc};
use nova_core::{Principal, Result, SessionId, UserId};
use nova_db::Db;

use crate::store::{AccountRecord, IdentityStore, OneTimeToken, SqlIdentityStore, TokenPurpose};

/// Creates an account `username` (email `username@example.com`, no password) and returns
/// a principal for it, as a logged-in session would.
pub async fn account(db: &Db, username: &str) -> Result<Principal> {
    let id = UserId::new();
    let now = Utc::now();
    let account = AccountRecord {
        id,
        email: format!("{username}@example.com"),
        email_verified_at: None,
        username: username.into(),
        password_hash: None,
        totp_secret_enc: None,
        totp_enabled_at: None,
        totp_last_step: None,
        created_at: now,
    };
    let token = OneTimeToken {
        token_hash: id.as_uuid().as_bytes().to_vec(),
        user_id: id,
        purpose: TokenPurpose::VerifyEmail,
        created_at: now,
        expires_at: now + Duration::hours(1),
    };
    SqlIdentityStore::new(db.clone())
        .create_account(&account, &token, &[])
        .await?;
    Ok(Principal::user(id, SessionId::new()))
}
