//! Turning `Authorization: Bearer <jwt>` into a [`Principal`] in any service, without
//! calling identity on every request.
//!
//! [`Authenticator`] is the one port the REST and gRPC adapters of every domain hold as
//! `Arc<dyn Authenticator>`:
//!
//! - in the all-in-one process, nova-identity's `Arc<dyn IdentityApi>` is one: it
//!   verifies with the identity service's own keys and also refuses tokens of ended
//!   sessions at once;
//! - in a separate service, [`JwksAuthenticator`](crate::JwksAuthenticator) verifies
//!   locally against the keys identity publishes.
//!
//! The [`Authenticated`] / [`MaybeAuthenticated`] axum extractors and
//! [`authenticate_metadata`] (gRPC) read the header the same way everywhere.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId};

/// Metadata key carrying the principal's session id next to the bearer token.
pub const SESSION_ID_METADATA: &str = "nova-session-id";

/// Who is calling, from the token of an `Authorization: Bearer` header.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The principal `bearer` (the token, without the `Bearer ` prefix) belongs to;
    /// `Unauthenticated` for a missing, forged, expired or revoked token.
    async fn authenticate(&self, bearer: &str) -> Result<Principal>;

    /// The service a service token (see [`crate::service`]) was minted for;
    /// `Unauthenticated` for anything else (user tokens included). By default no
    /// service token is accepted.
    async fn authenticate_service(&self, token: &str) -> Result<String> {
        let _ = token;
        Err(unauthenticated())
    }

    /// Whether `session` has ended (logout, logout everywhere, password change or
    /// reset) since its token was verified. Long-lived connections (GraphQL
    /// subscriptions) ask it periodically and close when it turns true. By default
    /// nothing is known to end.
    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        let _ = session;
        Ok(false)
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

#[async_trait]
impl<T: Authenticator + ?Sized> Authenticator for Arc<T> {
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        (**self).authenticate(bearer).await
    }

    async fn authenticate_service(&self, token: &str) -> Result<String> {
        (**self).authenticate_service(token).await
    }

    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        (**self).session_ended(session).await
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
