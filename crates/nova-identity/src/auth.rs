//! The auth plumbing every domain shares lives in nova-auth; it is re-exported here so
//! identity's own adapters (and older imports) keep their paths. What is identity's own:
//! `Arc<dyn IdentityApi>` is an [`Authenticator`] (through nova-auth's `Arc<T>` impl)
//! that verifies with identity's keys and also refuses tokens of ended sessions at once.

use async_trait::async_trait;
use nova_core::{Principal, Result, SessionId};

pub use nova_auth::authenticator::{
    Authenticated, Authenticator, MaybeAuthenticated, SESSION_ID_METADATA, authenticate_metadata,
    authenticate_metadata_optional, bearer_request, bearer_token,
};
pub use nova_auth::jwks::{
    DEFAULT_JWKS_URL, JWKS_REFRESH_INTERVAL, JwksAuthenticator, MIN_REFETCH_INTERVAL,
};

use crate::api::IdentityApi;

#[async_trait]
impl Authenticator for dyn IdentityApi {
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        self.verify_access_token(bearer).await
    }

    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        IdentityApi::session_ended(self, session).await
    }
}
