//! [`ServiceChannel`]: the gRPC channel every Nova client speaks through. It carries the
//! calling service's identity: with a [`TokenSource`], each request gets a fresh
//! service token in the `nova-service-token` metadata (beside any user `authorization`),
//! so callee services can require it on internal RPCs. Without one (tests, tools) it is
//! a plain channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::transport::Channel;
use tower::{Service, ServiceExt};

use crate::Result;

/// Metadata key carrying the calling service's token on internal gRPC calls.
pub const SERVICE_TOKEN_METADATA: &str = "nova-service-token";

/// A boxed future, as [`TokenSource`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a service's current token comes from (nova-auth's `ServiceTokens` asks
/// identity and caches it until shortly before it expires).
pub trait TokenSource: Send + Sync {
    /// A valid service token; `Unavailable` when none can be had.
    fn token(&self) -> BoxFuture<'_, Result<Arc<str>>>;
}

/// A gRPC channel that stamps the calling service's token on every request.
#[derive(Clone)]
pub struct ServiceChannel {
    channel: Channel,
    tokens: Option<Arc<dyn TokenSource>>,
}

impl std::fmt::Debug for ServiceChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceChannel")
            .field("service_token", &self.tokens.is_some())
            .finish_non_exhaustive()
    }
}

impl ServiceChannel {
    /// `channel`, sending a token from `tokens` with every request.
    pub fn new(channel: Channel, tokens: Arc<dyn TokenSource>) -> Self {
        Self {
            channel,
            tokens: Some(tokens),
        }
    }

    /// Whether requests carry a service token.
    pub fn has_service_identity(&self) -> bool {
        self.tokens.is_some()
    }
}

impl From<Channel> for ServiceChannel {
    /// A channel without a service identity: internal RPCs through it are refused.
    fn from(channel: Channel) -> Self {
        Self {
            channel,
            tokens: None,
        }
    }
}

impl Service<http::Request<tonic::body::Body>> for ServiceChannel {
    type Response = http::Response<tonic::body::Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, std::result::Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        // Readiness is awaited on the channel inside `call`, after the token is in hand.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        let channel = self.channel.clone();
        let tokens = self.tokens.clone();
        Box::pin(async move {
            if let Some(tokens) = tokens {
                let token = match tokens.token().await {
                    Ok(token) => token,
                    // No token, no call: the caller sees Unavailable, not a refusal.
                    Err(e) => return Ok(tonic::Status::unavailable(e.to_string()).into_http()),
                };
                match http::HeaderValue::from_str(&token) {
                    Ok(value) => {
                        request.headers_mut().insert(SERVICE_TOKEN_METADATA, value);
                    }
                    Err(_) => {
                        return Ok(tonic::Status::unavailable(
                            "service token is not a header value",
                        )
                        .into_http());
                    }
                }
            }
            channel.oneshot(request).await
        })
    }
}
