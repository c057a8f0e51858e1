//! Test fixtures for crates built on identity: accounts created straight in the store,
//! without password hashing or tokens, and an OpenID Connect provider on loopback
//! ([`oidc`]) (feature `fixtures`).

pub mod oidc;

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

/// A stand-in identity for tests of service binaries: on a thread it serves the JWK set
/// (`GET …/.well-known/jwks.json`) and the service-token endpoint (`POST
/// /api/v1/auth/service-token`, checking credentials under `secret`), and it signs user
/// and service tokens directly.
pub struct TestAuthority {
    /// Its JWK set URL (give it to services as `IDENTITY_JWKS_URL`).
    pub jwks_url: String,
    issuer: crate::TokenIssuer,
}

impl TestAuthority {
    /// Starts one with a fresh key; services present credentials derived from `secret`
    /// (`NOVA_SERVICE_SECRET`).
    pub fn start(secret: &str) -> Result<Self> {
        use std::io::{Read, Write};

        let keys = std::sync::Arc::new(crate::KeySet::generate("test-authority")?);
        let issuer = crate::TokenIssuer::new(
            keys.clone(),
            crate::TokenConfig::new("nova", "nova"),
            nova_core::SystemClock::shared(),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| nova_core::Error::internal(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| nova_core::Error::internal(e.to_string()))?;
        let jwks = keys.jwks().to_string();
        let (minter, secret) = (issuer.clone(), secret.to_owned());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // Read the head, then as much body as Content-Length says.
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).into_owned();
                    let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        body.len() >= length
                    });
                    if n == 0 || complete {
                        break;
                    }
                }
                let request = String::from_utf8_lossy(&data).into_owned();
                let (status, body) = if request.starts_with("POST") {
                    let json = request.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                    match serde_json::from_str::<nova_auth::service::ServiceTokenRequest>(json) {
                        Ok(req)
                            if nova_auth::service::credential_matches(
                                &secret,
                                &req.service,
                                &req.credential,
                            ) =>
                        {
                            match minter.issue_for(
                                &Principal::service(req.service),
                                nova_auth::service::SERVICE_TOKEN_TTL,
                            ) {
                                Ok(t) => (
                                    "200 OK",
                                    serde_json::json!({
                                        "access_token": t.token,
                                        "token_type": "Bearer",
                                        "expires_in": nova_auth::service::SERVICE_TOKEN_TTL.num_seconds(),
                                    })
                                    .to_string(),
                                ),
                                Err(_) => ("500 Internal Server Error", "{}".to_owned()),
                            }
                        }
                        _ => ("401 Unauthorized", "{}".to_owned()),
                    }
                } else {
                    ("200 OK", jwks.clone())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Ok(Self {
            jwks_url: format!("http://{addr}/.well-known/jwks.json"),
            issuer,
        })
    }

    /// A service token for `service`.
    pub fn service_token(&self, service: &str) -> Result<String> {
        self.issuer
            .issue_for(
                &Principal::service(service),
                nova_auth::service::SERVICE_TOKEN_TTL,
            )
            .map(|t| t.token)
    }

    /// A user access token for `principal`.
    pub fn user_token(&self, principal: &Principal) -> Result<String> {
        self.issuer.issue(principal).map(|t| t.token)
    }
}

/// A token source that always hands out the same token (for clients in tests).
pub struct StaticToken(pub std::sync::Arc<str>);

impl nova_core::channel::TokenSource for StaticToken {
    fn token(&self) -> nova_core::channel::BoxFuture<'_, Result<std::sync::Arc<str>>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}
