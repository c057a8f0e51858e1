#![doc = "Nova identity, crypto core: password hashing and policy, RS256 access tokens with key rotation and JWKS, cached token verification, TOTP and recovery codes."]
//!
//! # nova-identity
//!
//! What is here (no I/O, no storage; every time-dependent check takes a
//! [`nova_core::SharedClock`]):
//!
//! - [`password`]: argon2id at OWASP parameters (19 MiB, t=2, p=1) as PHC strings, run
//!   on tokio's blocking pool; [`Passwords::needs_rehash`] for upgrades on login;
//!   [`Passwords::dummy_verify`] so unknown accounts cost the same time as wrong
//!   passwords; the password policy ([`check_policy`]: 12–128 characters, not on the
//!   bundled list of common breached passwords, not containing the username or the
//!   email's local part).
//! - [`tokens`] and [`keys`]: access tokens as RS256 JWTs (`sub`, `sid`, `scope`, `iss`,
//!   `aud`, `iat`, `exp` = 15 minutes, `jti`, `kid` header). A [`KeySet`] holds the active
//!   signing key and older verification keys (rotation) and publishes the JWK set;
//!   [`TokenVerifier`] accepts RS256 only (never `alg: none` or HS256 keyed with the
//!   public key), checks issuer, audience and expiry, and answers a
//!   [`nova_core::Principal`] or `Unauthenticated`. Other services build their verifier
//!   from the published JWK set ([`VerificationKeys::from_jwks`]).
//! - [`token_cache`]: [`CachedVerifier`], a bounded cache of verified tokens (keyed by
//!   SHA-256) that still checks expiry on every hit.
//! - [`totp`]: RFC 6238 TOTP with replay protection by time step, and ten single-use
//!   recovery codes stored as salted hashes.
//!
//! What comes next (issue 3, a later session): the domain rooms every Nova crate has —
//! `model.rs`, the `IdentityApi` trait, the service (registration, login with rate
//! limits, refresh-token families, sessions, 2FA challenge, OAuth/OIDC), the store with
//! PostgreSQL and SQLite backends and its conformance suite, gRPC and REST adapters, and
//! the `identity-service` shell.
//!
//! ```
//! use std::sync::Arc;
//! use nova_core::{ErrorKind, ManualClock, Principal, SessionId, UserId};
//! use nova_identity::{KeySet, TokenConfig, TokenIssuer, TokenVerifier};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Passwords: policy first, then argon2id off the async runtime.
//! nova_identity::check_policy("violet-harbour-tram-42", "alice", "alice@example.com")?;
//! let err = nova_identity::check_policy("password123456", "alice", "alice@example.com");
//! assert_eq!(err.unwrap_err().field(), Some("password"));
//! let phc = nova_identity::hash_password("violet-harbour-tram-42").await?;
//! assert!(nova_identity::verify_password("violet-harbour-tram-42", &phc).await?);
//! assert!(!nova_identity::verify_password("violet-harbour-tram-43", &phc).await?);
//!
//! // Tokens: sign with the active key, verify against the clock.
//! let clock = ManualClock::at_epoch_seconds(1_800_000_000);
//! let keys = Arc::new(KeySet::generate("2026-11")?);
//! let config = TokenConfig::new("https://nova.example", "nova");
//! let issuer = TokenIssuer::new(keys.clone(), config.clone(), clock.shared());
//! let verifier = TokenVerifier::for_key_set(&*keys, config, clock.shared());
//! let alice = Principal::user(UserId::new(), SessionId::new());
//! let token = issuer.issue(&alice)?.token;
//! assert_eq!(verifier.verify(&token)?, alice);
//! assert_eq!(keys.jwks()["keys"][0]["kid"], "2026-11");
//!
//! clock.advance(chrono::Duration::minutes(16));
//! assert_eq!(verifier.verify(&token).unwrap_err().kind(), &ErrorKind::Unauthenticated);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod auth;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod grpc;
pub mod http;
pub mod keys;
mod limits;
pub mod mail;
pub mod model;
pub mod oauth;
pub mod password;
pub mod revocations;
mod secrets;
mod service;
pub mod setup;
pub mod store;
pub mod token_cache;
pub mod tokens;
pub mod totp;
pub mod validation;

pub use api::IdentityApi;
pub use auth::{Authenticated, Authenticator, JwksAuthenticator, MaybeAuthenticated};
pub use keys::{Jwk, JwkSet, KeySet, SigningKey, VerificationKeys, VerifyingKey};
pub use limits::LoginLimits;
pub use mail::{LogMailer, Mail, Mailer, MemoryMailer};
pub use oauth::{OAuthProviders, OidcProvider};
pub use password::{
    HashLimits, Passwords, check_policy, dummy_verify, hash_password, needs_rehash, verify_password,
};
pub use secrets::SecretBox;
pub use service::{
    IdentityConfig, IdentityService, IdentityServiceBuilder, MAX_PASSKEYS, PasskeyConfig,
    ROLE_ADMIN, ROLE_MODERATOR, keys_from_store,
};
pub use token_cache::CachedVerifier;
pub use tokens::{
    ACCESS_TOKEN_TTL, AccessClaims, IssuedToken, TokenConfig, TokenIssuer, TokenVerifier,
};
pub use totp::{RecoveryCodes, Totp, TotpSecret, generate_recovery_codes, verify_recovery_code};

#[cfg(test)]
mod test_keys;
