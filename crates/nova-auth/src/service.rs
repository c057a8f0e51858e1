//! Service identity on internal gRPC calls.
//!
//! Every Nova service proves who it is with a short-lived **service token**: an RS256
//! JWT that identity signs with the same keys as user tokens (so every service verifies
//! it from the same JWKS), carrying `svc = <service name>`.
//!
//! - **Getting one** (client-credentials style): a service posts its name and its
//!   credential to identity's `POST /api/v1/auth/service-token`. The credential is
//!   `NOVA_SERVICE_CREDENTIAL`, or derived from the deployment's `NOVA_SERVICE_SECRET`
//!   as [`service_credential`] (HMAC-SHA256 of the service name), which is also how
//!   identity checks it. [`ServiceTokens`] caches the token and asks again shortly
//!   before it expires ([`SERVICE_TOKEN_TTL`]).
//! - **Sending it**: [`nova_core::channel::ServiceChannel`] stamps it on every request
//!   as `nova-service-token` metadata; `nova_runtime::shell::remote` builds such
//!   channels.
//! - **Requiring it**: [`ServiceGate`] (a tower layer the runtime puts in front of every
//!   gRPC service) refuses the RPCs listed in [`INTERNAL_RPCS`] unless the token
//!   verifies as a service principal.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use nova_core::channel::{BoxFuture, SERVICE_TOKEN_METADATA, TokenSource};
use nova_core::config::NovaConfig;
use nova_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use crate::authenticator::Authenticator;

/// How long a service token lives: short, since it cannot be revoked.
pub const SERVICE_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(5);

/// A cached token is replaced once less than this is left.
pub const SERVICE_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Identity's token endpoint path (on its HTTP port, beside the JWKS).
pub const SERVICE_TOKEN_PATH: &str = "/api/v1/auth/service-token";

/// The RPCs only a Nova service may call (full gRPC paths; a `/*` suffix covers a whole
/// service). They act for users named in the request, or reveal what only the calling
/// domain may decide on, so a user token is not enough.
pub const INTERNAL_RPCS: &[&str] = &[
    // graph acts for any `from_id`: the whole service is internal.
    "/nova.graph.v1.GraphService/*",
    "/nova.social.v1.SocialService/CanInteract",
    "/nova.social.v1.SocialService/CanInteractMany",
    "/nova.social.v1.SocialService/CanView",
    "/nova.social.v1.SocialService/AuthorAccess",
    "/nova.user.v1.UserService/GetPrivacy",
    "/nova.user.v1.UserService/GetProfiles",
    // ranking scores for whichever viewer the caller names: internal as a whole.
    "/nova.ranking.v1.RankingService/*",
    "/nova.ranking.v1.TrendingService/Ingest",
    // content attaches the uploads of the author it authorized to the post it creates.
    "/nova.media.v1.MediaService/Attach",
];

/// Whether the gRPC `path` (`/package.Service/Method`) is service-only.
pub fn is_internal(path: &str) -> bool {
    INTERNAL_RPCS.iter().any(|rpc| match rpc.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == *rpc,
    })
}

/// The credential of `service` under the deployment secret `secret`:
/// base64url(HMAC-SHA256(secret, service)). Giving a pod only its own credential
/// (`NOVA_SERVICE_CREDENTIAL`) keeps it from passing for another service.
pub fn service_credential(secret: &str, service: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(service.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `presented` is `service`'s credential under `secret` (constant time).
pub fn credential_matches(secret: &str, service: &str, presented: &str) -> bool {
    let expected = service_credential(secret, service);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Checks a service name: 1–64 characters of `a-z 0-9 -`.
pub fn check_service_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "service",
            "must be 1 to 64 characters of a-z, 0-9 and -",
        ))
    }
}

/// The body of `POST /api/v1/auth/service-token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceTokenRequest {
    /// The calling service's name, e.g. `feed-service`.
    pub service: String,
    /// Its credential (see [`service_credential`]).
    pub credential: String,
}

/// The answer of `POST /api/v1/auth/service-token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceTokenResponse {
    /// The service token (a JWT).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// A service's own token, fetched from identity and cached until shortly before expiry.
pub struct ServiceTokens {
    url: String,
    service: String,
    credential: String,
    http: reqwest::Client,
    cached: Mutex<Option<(Arc<str>, Instant)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokens")
            .field("url", &self.url)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// Tokens for `service`, asked of identity at `url` with `credential`.
    pub fn new(
        url: impl Into<String>,
        service: impl Into<String>,
        credential: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            service: service.into(),
            credential: credential.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cached: Mutex::new(None),
        }
    }

    /// From configuration, for `service`: `IDENTITY_SERVICE_TOKEN_URL` (default: the
    /// token path on the host of `IDENTITY_JWKS_URL`), and `NOVA_SERVICE_CREDENTIAL` or
    /// else the credential derived from `NOVA_SERVICE_SECRET`. `None` when neither is
    /// set (the service then has no identity and peers refuse its internal calls).
    pub fn from_config(config: &NovaConfig, service: &str) -> Option<Self> {
        let raw = |name: &str| config.source.raw(name).map(|(v, _)| v.to_owned());
        let credential = raw("NOVA_SERVICE_CREDENTIAL").or_else(|| {
            raw("NOVA_SERVICE_SECRET").map(|secret| service_credential(&secret, service))
        })?;
        let url = raw("IDENTITY_SERVICE_TOKEN_URL").unwrap_or_else(|| {
            let jwks = raw("IDENTITY_JWKS_URL").unwrap_or_else(|| crate::DEFAULT_JWKS_URL.into());
            token_url_beside(&jwks)
        });
        Some(Self::new(url, service, credential))
    }

    /// The service these tokens are for.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// A valid token: the cached one, or a fresh one from identity.
    pub async fn token(&self) -> Result<Arc<str>> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + SERVICE_TOKEN_REFRESH_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let fetched = self.fetch().await?;
        let lifetime = Duration::from_secs(u64::try_from(fetched.expires_in).unwrap_or(0));
        let token: Arc<str> = Arc::from(fetched.access_token);
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    async fn fetch(&self) -> Result<ServiceTokenResponse> {
        let unavailable = |e: &dyn std::fmt::Display| {
            Error::unavailable(format!("service token from {}: {e}", self.url))
        };
        let response = self
            .http
            .post(&self.url)
            .json(&ServiceTokenRequest {
                service: self.service.clone(),
                credential: self.credential.clone(),
            })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| unavailable(&e))?;
        response
            .json::<ServiceTokenResponse>()
            .await
            .map_err(|e| unavailable(&e))
    }
}

impl TokenSource for ServiceTokens {
    fn token(&self) -> BoxFuture<'_, Result<Arc<str>>> {
        Box::pin(ServiceTokens::token(self))
    }
}

/// The token endpoint on the same origin as a JWKS URL.
fn token_url_beside(jwks_url: &str) -> String {
    let origin_end = jwks_url
        .find("://")
        .and_then(|scheme| jwks_url[scheme + 3..].find('/').map(|i| scheme + 3 + i))
        .unwrap_or(jwks_url.len());
    format!("{}{SERVICE_TOKEN_PATH}", &jwks_url[..origin_end])
}

/// The calling service's name from a request's `nova-service-token` metadata;
/// `Unauthenticated` when it is missing or does not verify as a service token.
pub async fn authenticate_service(
    auth: &dyn Authenticator,
    headers: &http::HeaderMap,
) -> Result<String> {
    let token = headers
        .get(SERVICE_TOKEN_METADATA)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unauthenticated,
                "internal RPC: no service identity",
            )
        })?;
    auth.authenticate_service(token).await
}

/// A tower layer that refuses [`INTERNAL_RPCS`] without a verified service token.
#[derive(Clone)]
pub struct ServiceGate {
    auth: Arc<dyn Authenticator>,
}

impl std::fmt::Debug for ServiceGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceGate").finish_non_exhaustive()
    }
}

impl ServiceGate {
    /// A gate verifying service tokens with `auth`.
    pub fn new(auth: Arc<dyn Authenticator>) -> Self {
        Self { auth }
    }
}

impl<S> tower::Layer<S> for ServiceGate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Gated<S> {
        Gated {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// A gRPC service behind a [`ServiceGate`].
#[derive(Clone)]
pub struct Gated<S> {
    inner: S,
    auth: Arc<dyn Authenticator>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Gated<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, std::result::Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        // Keep the service that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !is_internal(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let auth = self.auth.clone();
        Box::pin(async move {
            match authenticate_service(auth.as_ref(), request.headers()).await {
                Ok(service) => {
                    tracing::trace!(%service, path = request.uri().path(), "internal RPC");
                    inner.call(request).await
                }
                Err(e) => Ok(tonic::Status::unauthenticated(e.message().to_owned()).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_per_service_and_checked_exactly() {
        let feed = service_credential("deployment-secret", "feed-service");
        assert_ne!(
            feed,
            service_credential("deployment-secret", "graph-service")
        );
        assert_ne!(feed, service_credential("other-secret", "feed-service"));
        assert!(credential_matches(
            "deployment-secret",
            "feed-service",
            &feed
        ));
        assert!(!credential_matches(
            "deployment-secret",
            "graph-service",
            &feed
        ));
        assert!(!credential_matches("deployment-secret", "feed-service", ""));
    }

    #[test]
    fn internal_rpcs_are_matched_by_path() {
        assert!(is_internal("/nova.graph.v1.GraphService/Follow"));
        assert!(is_internal("/nova.social.v1.SocialService/CanView"));
        assert!(!is_internal("/nova.social.v1.SocialService/Follow"));
        assert!(is_internal("/nova.media.v1.MediaService/Attach"));
        assert!(!is_internal("/nova.media.v1.MediaService/GetMany"));
        assert!(!is_internal("/nova.user.v1.UserService/GetProfile"));
        assert!(!is_internal("/grpc.health.v1.Health/Check"));
    }

    #[test]
    fn the_token_url_sits_beside_the_jwks() {
        assert_eq!(
            token_url_beside("http://identity-service:8081/.well-known/jwks.json"),
            "http://identity-service:8081/api/v1/auth/service-token"
        );
        assert_eq!(
            token_url_beside("http://127.0.0.1:9"),
            "http://127.0.0.1:9/api/v1/auth/service-token"
        );
    }

    #[test]
    fn service_names_are_checked() {
        assert!(check_service_name("feed-service").is_ok());
        for bad in ["", "Feed", "feed service", &"x".repeat(65)] {
            assert_eq!(
                check_service_name(bad).unwrap_err().field(),
                Some("service")
            );
        }
    }
}
