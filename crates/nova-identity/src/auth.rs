//! Turning `Authorization: Bearer <jwt>` into a [`Principal`] in any service, without
//! calling identity on every request.
//!
//! [`Authenticator`] is the one port the REST and gRPC adapters of other domains (users,
//! social, ...) hold as `Arc<dyn Authenticator>`:
//!
//! - in the all-in-one process, `Arc<dyn IdentityApi>` is one: it verifies with the
//!   identity service's own keys and also refuses tokens of ended sessions at once;
//! - in a separate service, [`JwksAuthenticator`] verifies locally against the keys
//!   identity publishes at `/.well-known/jwks.json` (`IDENTITY_JWKS_URL`), cached per
//!   token, re-fetching the key set periodically and when a token names an unknown key
//!   (rotation). A logged-out session's token stays valid there until it expires.
//!
//! The [`Authenticated`] / [`MaybeAuthenticated`] axum extractors and
//! [`authenticate_metadata`] (gRPC) read the header the same way everywhere.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use nova_core::config::NovaConfig;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock};
use nova_events::CancellationToken;
use tokio::sync::Mutex;

use crate::api::IdentityApi;
use crate::grpc::SESSION_ID_METADATA;
use crate::{CachedVerifier, TokenConfig, TokenVerifier, VerificationKeys};

/// Where identity publishes its keys inside the cluster (the `IDENTITY_JWKS_URL` default).
pub const DEFAULT_JWKS_URL: &str = "http://identity-service:8081/.well-known/jwks.json";

/// How often [`JwksAuthenticator::spawn_refresh`] re-reads the key set by default.
pub const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(300);

/// The least time between two fetches caused by unknown keys (so forged tokens naming
/// random key ids cannot make a service hammer identity).
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Who is calling, from the token of an `Authorization: Bearer` header.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The principal `bearer` (the token, without the `Bearer ` prefix) belongs to;
    /// `Unauthenticated` for a missing, forged, expired or revoked token.
    async fn authenticate(&self, bearer: &str) -> Result<Principal>;
}

#[async_trait]
impl Authenticator for Arc<dyn IdentityApi> {
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        self.verify_access_token(bearer).await
    }
}

fn unauthenticated() -> Error {
    Error::from_kind(ErrorKind::Unauthenticated)
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller of a gRPC request, from its `authorization` metadata; a `nova-session-id`
/// sent beside it must be the token's session.
pub async fn authenticate_metadata(
    auth: &dyn Authenticator,
    metadata: &tonic::metadata::MetadataMap,
) -> Result<Principal> {
    let header = metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthenticated)?;
    let principal = auth
        .authenticate(bearer_token(header).ok_or_else(unauthenticated)?)
        .await?;
    if let Some(claimed) = metadata.get(SESSION_ID_METADATA) {
        let claimed = claimed.to_str().ok().and_then(|s| s.parse().ok());
        if claimed != Some(principal.session_id) {
            return Err(unauthenticated());
        }
    }
    Ok(principal)
}

/// The caller of a gRPC request that may be anonymous: `None` without `authorization`
/// metadata; with it, exactly [`authenticate_metadata`] (a bad token is refused, never
/// downgraded to anonymous).
pub async fn authenticate_metadata_optional(
    auth: &dyn Authenticator,
    metadata: &tonic::metadata::MetadataMap,
) -> Result<Option<Principal>> {
    if metadata.contains_key("authorization") {
        authenticate_metadata(auth, metadata).await.map(Some)
    } else {
        Ok(None)
    }
}

/// A gRPC request acting for `principal`: `authorization: Bearer <token>` and its
/// session id. Without a token it is `Unauthenticated` before anything is sent.
pub fn bearer_request<T>(
    token: Option<&str>,
    principal: &Principal,
    message: T,
) -> Result<tonic::Request<T>> {
    use tonic::metadata::AsciiMetadataValue;
    let token = token.ok_or_else(unauthenticated)?;
    let bearer =
        AsciiMetadataValue::try_from(format!("Bearer {token}")).map_err(|_| unauthenticated())?;
    let session = AsciiMetadataValue::try_from(principal.session_id.to_string())
        .map_err(|_| unauthenticated())?;
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", bearer);
    request.metadata_mut().insert(SESSION_ID_METADATA, session);
    Ok(request)
}

/// The caller of an HTTP request (axum extractor): `401` without a valid bearer token.
/// The router's state must give an `Arc<dyn Authenticator>` (`FromRef`).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    Arc<dyn Authenticator>: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match MaybeAuthenticated::from_request_parts(parts, state).await? {
            MaybeAuthenticated(Some(principal)) => Ok(Self(principal)),
            MaybeAuthenticated(None) => Err(unauthenticated()),
        }
    }
}

/// The caller if the request carries an `Authorization` header (which must then be
/// valid: a bad token is `401`, not anonymous).
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Principal>);

impl<S> FromRequestParts<S> for MaybeAuthenticated
where
    S: Send + Sync,
    Arc<dyn Authenticator>: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Self(None));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or_else(unauthenticated)?;
        let auth = Arc::<dyn Authenticator>::from_ref(state);
        auth.authenticate(token).await.map(|p| Self(Some(p)))
    }
}

/// Verifies access tokens against the key set identity publishes, locally and cached.
pub struct JwksAuthenticator {
    url: String,
    tokens: TokenConfig,
    clock: SharedClock,
    http: reqwest::Client,
    verifier: RwLock<Option<Arc<CachedVerifier>>>,
    last_fetch: Mutex<Option<Instant>>,
    min_refetch: Duration,
}

impl std::fmt::Debug for JwksAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksAuthenticator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl JwksAuthenticator {
    /// Verifies tokens for `tokens`' issuer and audience with the keys at `url`. Nothing
    /// is fetched yet: the first request (or [`refresh`](Self::refresh)) does it, so a
    /// service may start before identity.
    pub fn new(url: impl Into<String>, tokens: TokenConfig, clock: SharedClock) -> Self {
        Self {
            url: url.into(),
            tokens,
            clock,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            verifier: RwLock::new(None),
            last_fetch: Mutex::new(None),
            min_refetch: MIN_REFETCH_INTERVAL,
        }
    }

    /// Sets the least time between fetches caused by unknown keys (default
    /// [`MIN_REFETCH_INTERVAL`]).
    pub fn with_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// From configuration: `IDENTITY_JWKS_URL` (default [`DEFAULT_JWKS_URL`]),
    /// `JWT_ISSUER` and `JWT_AUDIENCE` (default `nova`).
    pub fn from_config(config: &NovaConfig) -> Self {
        let read = |name: &str, default: &str| {
            config
                .source
                .raw(name)
                .map_or_else(|| default.to_owned(), |(v, _)| v.to_owned())
        };
        Self::new(
            read("IDENTITY_JWKS_URL", DEFAULT_JWKS_URL),
            TokenConfig::new(read("JWT_ISSUER", "nova"), read("JWT_AUDIENCE", "nova")),
            nova_core::SystemClock::shared(),
        )
    }

    /// The key-set URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Fetches the key set now; returns how many keys it holds. `Unavailable` when
    /// identity does not answer or answers something that is not a key set (the keys
    /// fetched before stay in use).
    pub async fn refresh(&self) -> Result<usize> {
        *self.last_fetch.lock().await = Some(Instant::now());
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| Error::unavailable(format!("JWKS fetch from {}: {e}", self.url)))?;
        let text = response
            .text()
            .await
            .map_err(|e| Error::unavailable(format!("JWKS fetch from {}: {e}", self.url)))?;
        let keys = VerificationKeys::from_jwks(&text)
            .map_err(|e| Error::unavailable(format!("JWKS from {}: {e}", self.url)))?;
        let count = keys.len();
        let verifier = TokenVerifier::new(keys, self.tokens.clone(), self.clock.clone());
        *self
            .verifier
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Arc::new(CachedVerifier::new(verifier)));
        Ok(count)
    }

    /// Re-fetches the key set every `every` until `stop` (failures are logged; the old
    /// keys stay in use).
    pub fn spawn_refresh(
        self: &Arc<Self>,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                if let Err(error) = this.refresh().await {
                    tracing::warn!(%error, "JWKS refresh failed; keeping the keys in hand");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        })
    }

    fn current(&self) -> Option<Arc<CachedVerifier>> {
        self.verifier
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Fetches again unless a fetch happened within the minimum refetch interval.
    async fn refetch_if_due(&self) -> bool {
        let due = self
            .last_fetch
            .lock()
            .await
            .is_none_or(|at| at.elapsed() >= self.min_refetch);
        if !due {
            return false;
        }
        match self.refresh().await {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(%error, "JWKS fetch failed");
                false
            }
        }
    }
}

#[async_trait]
impl Authenticator for JwksAuthenticator {
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        let first = match self.current() {
            Some(verifier) => verifier.verify(bearer),
            None => {
                if !self.refetch_if_due().await && self.current().is_none() {
                    return Err(Error::unavailable("no JWKS fetched from identity yet"));
                }
                return self.current().map_or_else(
                    || Err(Error::unavailable("no JWKS fetched from identity yet")),
                    |v| v.verify(bearer),
                );
            }
        };
        match first {
            // A key this service has not seen yet (rotation): fetch once and retry.
            Err(e) if unknown_key(bearer, self.current().as_deref()) => {
                if self.refetch_if_due().await
                    && let Some(verifier) = self.current()
                {
                    return verifier.verify(bearer);
                }
                Err(e)
            }
            other => other,
        }
    }
}

/// Whether `token` names a key id the verifier does not hold.
fn unknown_key(token: &str, verifier: Option<&CachedVerifier>) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    match (header.kid, verifier) {
        (Some(kid), Some(v)) => !v.inner().has_key(&kid),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
