//! [`JwksAuthenticator`]: verifies access tokens locally against the key set identity
//! publishes at `/.well-known/jwks.json` (`IDENTITY_JWKS_URL`), cached per token,
//! re-fetching the key set periodically and when a token names an unknown key
//! (rotation).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nova_core::config::NovaConfig;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId, SharedClock};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::authenticator::Authenticator;
use crate::revocations::Revocations;
use crate::{CachedVerifier, TokenConfig, TokenVerifier, VerificationKeys};

/// Where identity publishes its keys inside the cluster (the `IDENTITY_JWKS_URL` default).
pub const DEFAULT_JWKS_URL: &str = "http://identity-service:8081/.well-known/jwks.json";

/// How often [`JwksAuthenticator::spawn_refresh`] re-reads the key set by default.
pub const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(300);

/// The least time between two fetches caused by unknown keys (so forged tokens naming
/// random key ids cannot make a service hammer identity).
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Verifies access tokens against the key set identity publishes, locally and cached.
pub struct JwksAuthenticator {
    url: String,
    tokens: TokenConfig,
    clock: SharedClock,
    http: reqwest::Client,
    verifier: RwLock<Option<Arc<CachedVerifier>>>,
    last_fetch: Mutex<Option<Instant>>,
    min_refetch: Duration,
    revocations: Option<Arc<dyn Revocations>>,
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
            revocations: None,
        }
    }

    /// Sets the least time between fetches caused by unknown keys (default
    /// [`MIN_REFETCH_INTERVAL`]).
    pub fn with_min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// Refuses tokens of the sessions `revocations` holds (ended before their tokens
    /// expire).
    pub fn with_revocations(mut self, revocations: Arc<dyn Revocations>) -> Self {
        self.revocations = Some(revocations);
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
    /// User tokens only: a service token is no user's login.
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        let principal = self.verify(bearer).await?;
        if !principal.is_user() {
            return Err(Error::from_kind(ErrorKind::Unauthenticated));
        }
        let revoked = match &self.revocations {
            Some(revocations) => revocations.is_revoked(principal.session_id).await?,
            None => false,
        };
        if !revoked {
            Ok(principal)
        } else {
            Err(Error::from_kind(ErrorKind::Unauthenticated))
        }
    }

    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        match &self.revocations {
            Some(revocations) => revocations.is_revoked(session).await,
            None => Ok(false),
        }
    }

    async fn authenticate_service(&self, token: &str) -> Result<String> {
        match self.verify(token).await?.service_name() {
            Some(service) => Ok(service.to_owned()),
            None => Err(Error::new(
                ErrorKind::Unauthenticated,
                "a user token is no service identity",
            )),
        }
    }
}

impl JwksAuthenticator {
    /// Verifies any token identity signed (user or service).
    async fn verify(&self, bearer: &str) -> Result<Principal> {
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
