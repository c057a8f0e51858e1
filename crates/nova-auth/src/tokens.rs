//! Access tokens: RS256 JWTs with a `kid` header, 15 minutes long.
//!
//! Identity signs them (nova-identity's `TokenIssuer`); [`TokenVerifier`] accepts
//! only RS256, looks the key up by `kid`, checks issuer and audience, and checks `exp`
//! (and `iat`) against the injected [`SharedClock`] rather than the system time, so tests
//! can move time. Every failure is `Unauthenticated`.
//!
//! Claims: `sub` (user id), `sid` (session id), `scope` (space-separated), `iss`, `aud`,
//! `iat`, `exp`, `jti`.

use std::collections::HashSet;

use chrono::Duration;
use jsonwebtoken::{Algorithm, Validation};
use nova_core::{Error, ErrorKind, Principal, Result, SessionId, SharedClock, UserId};
use serde::{Deserialize, Serialize};

use crate::keys::VerificationKeys;

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 5;

/// The claims of a Nova access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// Granted scopes, space-separated (OAuth style).
    pub scope: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// For a service token only: the service's name (`sub` repeats it, `sid` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub svc: Option<String>,
}

impl AccessClaims {
    /// The caller these claims describe.
    pub fn principal(&self) -> Result<Principal> {
        if let Some(service) = &self.svc {
            if service.is_empty() || *service != self.sub {
                return Err(invalid_token());
            }
            return Ok(Principal::service(service.clone()));
        }
        let user_id = UserId::parse_field(&self.sub, "sub").map_err(|_| invalid_token())?;
        let session_id = SessionId::parse_field(&self.sid, "sid").map_err(|_| invalid_token())?;
        Ok(Principal {
            user_id,
            session_id,
            scopes: self.scope.split_whitespace().map(str::to_owned).collect(),
            kind: nova_core::PrincipalKind::User,
        })
    }
}

/// Who issues tokens and for whom: both sides must agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// `iss`, e.g. `https://nova.example/identity`.
    pub issuer: String,
    /// `aud`, e.g. `nova`.
    pub audience: String,
    /// Token lifetime ([`ACCESS_TOKEN_TTL`] by default).
    pub ttl: Duration,
    /// Tolerated clock skew in seconds ([`DEFAULT_LEEWAY_SECS`] by default).
    pub leeway_secs: i64,
}

impl TokenConfig {
    /// A configuration with the default lifetime and leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ttl: ACCESS_TOKEN_TTL,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

/// Verifies access tokens locally (no network call): RS256 only, key by `kid`.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: VerificationKeys,
    config: TokenConfig,
    clock: SharedClock,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier accepting tokens signed by any of `keys`, for `config`'s issuer and
    /// audience, judging expiry by `clock`.
    pub fn new(keys: VerificationKeys, config: TokenConfig, clock: SharedClock) -> Self {
        // Only RS256: `alg: none`, HS256 "signed" with the public key, and every other
        // algorithm fail before any key is used.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        // jsonwebtoken checks exp/nbf against the system time; we check against `clock`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.required_spec_claims = ["exp", "iat", "iss", "aud", "sub"]
            .into_iter()
            .map(str::to_owned)
            .collect::<HashSet<_>>();
        Self {
            keys,
            config,
            clock,
            validation,
        }
    }

    /// A verifier for the keys of a key set (nova-identity's `KeySet` is one).
    pub fn for_key_set(
        keys: &impl AsRef<VerificationKeys>,
        config: TokenConfig,
        clock: SharedClock,
    ) -> Self {
        Self::new(keys.as_ref().clone(), config, clock)
    }

    /// The clock expiry is judged by.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Whether a key with id `kid` verifies here.
    pub fn has_key(&self, kid: &str) -> bool {
        self.keys.get(kid).is_some()
    }

    /// The tolerated clock skew in seconds.
    pub fn leeway_secs(&self) -> i64 {
        self.config.leeway_secs
    }

    /// Verifies `token` and returns the caller it names.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        self.verify_claims(token)?.principal()
    }

    /// Verifies `token` and returns its claims.
    pub fn verify_claims(&self, token: &str) -> Result<AccessClaims> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_token())?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid_token());
        }
        let kid = header.kid.ok_or_else(invalid_token)?;
        let key = self.keys.get(&kid).ok_or_else(invalid_token)?;
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), &self.validation)
                .map_err(|_| invalid_token())?;
        let claims = data.claims;
        let now = self.clock.now().timestamp();
        if self.is_expired(claims.exp, now) {
            return Err(expired_token());
        }
        if claims.iat > now + self.config.leeway_secs {
            return Err(invalid_token());
        }
        Ok(claims)
    }

    /// Whether a token expiring at `exp` (Unix seconds) is expired at `now`.
    pub fn is_expired(&self, exp: i64, now: i64) -> bool {
        now >= exp.saturating_add(self.config.leeway_secs)
    }
}

fn invalid_token() -> Error {
    Error::new(ErrorKind::Unauthenticated, "invalid access token")
}

/// The answer to an expired access token.
pub fn expired_token() -> Error {
    Error::new(ErrorKind::Unauthenticated, "access token expired")
}
