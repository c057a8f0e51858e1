//! Access tokens: RS256 JWTs with a `kid` header, 15 minutes long.
//!
//! [`TokenIssuer`] signs with the active key of a [`KeySet`]; the claims, the
//! [`TokenConfig`] and the [`TokenVerifier`] every service checks them with live in
//! nova-auth and are re-exported here.

use jsonwebtoken::{Algorithm, Header};
use nova_core::{Error, Principal, Result, SharedClock, Timestamp};

pub use crate::keys::{
    Jwk, JwkSet, KeySet, RSA_KEY_BITS, SigningKey, VerificationKeys, VerifyingKey,
};
pub use nova_auth::tokens::{
    ACCESS_TOKEN_TTL, AccessClaims, DEFAULT_LEEWAY_SECS, TokenConfig, TokenVerifier, expired_token,
};

/// A freshly signed access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// Signs access tokens with the active key.
#[derive(Clone)]
pub struct TokenIssuer {
    keys: std::sync::Arc<KeySet>,
    config: TokenConfig,
    clock: SharedClock,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.keys.active().kid())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer signing with `keys.active()`, stamping times from `clock`.
    pub fn new(keys: std::sync::Arc<KeySet>, config: TokenConfig, clock: SharedClock) -> Self {
        Self {
            keys,
            config,
            clock,
        }
    }

    /// Signs an access token for `principal`.
    pub fn issue(&self, principal: &Principal) -> Result<IssuedToken> {
        self.issue_for(principal, self.config.ttl)
    }

    /// Signs a token for `principal` that lives `ttl` (service tokens live minutes).
    pub fn issue_for(&self, principal: &Principal, ttl: chrono::Duration) -> Result<IssuedToken> {
        let now = self.clock.now();
        let expires_at = now + ttl;
        let service = principal.service_name().map(str::to_owned);
        let claims = AccessClaims {
            sub: service
                .clone()
                .unwrap_or_else(|| principal.user_id.to_string()),
            sid: if service.is_some() {
                String::new()
            } else {
                principal.session_id.to_string()
            },
            scope: principal.scopes.join(" "),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: uuid::Uuid::now_v7().to_string(),
            svc: service,
        };
        let token = self.sign(&claims)?;
        Ok(IssuedToken {
            token,
            jti: claims.jti,
            expires_at,
        })
    }

    /// Signs arbitrary claims with the active key (tests and tools; prefer [`Self::issue`]).
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let active = self.keys.active();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(active.kid().to_owned());
        jsonwebtoken::encode(&header, claims, active.encoding_key())
            .map_err(|e| Error::internal(format!("signing access token failed: {e}")))
    }
}

#[cfg(test)]
mod tests;
