//! [`UserGrpcClient`]: [`UserApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::channel::ServiceChannel;
use nova_core::{Error, Principal, Result, UserId};
use nova_proto::nova::user::v1 as pb;
use pb::user_service_client::UserServiceClient;
use tonic::transport::Endpoint;

use super::convert;
use crate::api::UserApi;
use crate::model::{PrivacySettings, Profile, ProfileUpdate, Settings};

/// [`UserApi`] implemented by calling a remote users service over gRPC.
///
/// Cloning is cheap and shares the connection. Methods taking a `&Principal` send the
/// token set with [`with_token`](Self::with_token); without one they fail with
/// `Unauthenticated` before any call.
#[derive(Clone)]
pub struct UserGrpcClient {
    inner: UserServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for UserGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserGrpcClient").finish_non_exhaustive()
    }
}

impl UserGrpcClient {
    /// Connects to `endpoint` (e.g. `http://user-service:9080`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client that connects on first use (for a process that may start before the
    /// users service); `InvalidArgument` naming `endpoint` if the address is malformed.
    pub fn connect_lazy(endpoint: impl Into<String>) -> Result<Self> {
        let endpoint = Endpoint::from_shared(endpoint.into())
            .map_err(|_| Error::invalid("endpoint", "is not a URL"))?;
        Ok(Self::from_channel(endpoint.connect_lazy()))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: UserServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` with every call acting for a
    /// principal (it shares the connection).
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn authed<T>(&self, principal: &Principal, message: T) -> Result<tonic::Request<T>> {
        bearer_request(self.token.as_deref(), principal, message)
    }

    fn rpc(&self) -> UserServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

fn ids(ids: &[UserId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl UserApi for UserGrpcClient {
    async fn profile(&self, user: UserId) -> Result<Profile> {
        let request = pb::GetProfileRequest {
            user_id: user.to_string(),
        };
        convert::profile_from(self.rpc().get_profile(request).await?.into_inner())
    }

    async fn profile_by_username(&self, username: &str) -> Result<Profile> {
        let request = pb::GetProfileByUsernameRequest {
            username: username.to_owned(),
        };
        convert::profile_from(
            self.rpc()
                .get_profile_by_username(request)
                .await?
                .into_inner(),
        )
    }

    async fn profiles(&self, user_ids: &[UserId]) -> Result<Vec<Profile>> {
        let request = pb::GetProfilesRequest {
            user_ids: ids(user_ids),
        };
        let response = self.rpc().get_profiles(request).await?.into_inner();
        response
            .profiles
            .into_iter()
            .map(convert::profile_from)
            .collect()
    }

    async fn update_profile(
        &self,
        principal: &Principal,
        update: ProfileUpdate,
    ) -> Result<Profile> {
        let request = self.authed(principal, convert::update(update))?;
        convert::profile_from(self.rpc().update_profile(request).await?.into_inner())
    }

    async fn settings(&self, principal: &Principal) -> Result<Settings> {
        let request = self.authed(principal, pb::GetSettingsRequest {})?;
        convert::settings_from(self.rpc().get_settings(request).await?.into_inner())
    }

    async fn update_settings(&self, principal: &Principal, settings: Settings) -> Result<Settings> {
        let message = pb::UpdateSettingsRequest {
            settings: Some(convert::settings(settings)),
        };
        let request = self.authed(principal, message)?;
        convert::settings_from(self.rpc().update_settings(request).await?.into_inner())
    }

    async fn privacy(&self, user_ids: &[UserId]) -> Result<Vec<PrivacySettings>> {
        let request = pb::GetPrivacyRequest {
            user_ids: ids(user_ids),
        };
        let response = self.rpc().get_privacy(request).await?.into_inner();
        response
            .settings
            .into_iter()
            .map(convert::privacy_from)
            .collect()
    }

    async fn change_username(&self, principal: &Principal, username: &str) -> Result<Profile> {
        let message = pb::ChangeUsernameRequest {
            username: username.to_owned(),
        };
        let request = self.authed(principal, message)?;
        convert::profile_from(self.rpc().change_username(request).await?.into_inner())
    }

    async fn deactivate(&self, principal: &Principal) -> Result<()> {
        let request = self.authed(principal, pb::DeactivateRequest {})?;
        self.rpc().deactivate(request).await?;
        Ok(())
    }

    async fn reactivate(&self, principal: &Principal) -> Result<()> {
        let request = self.authed(principal, pb::ReactivateRequest {})?;
        self.rpc().reactivate(request).await?;
        Ok(())
    }

    async fn delete_account(&self, principal: &Principal, reason: &str) -> Result<()> {
        let message = pb::DeleteAccountRequest {
            reason: reason.to_owned(),
        };
        let request = self.authed(principal, message)?;
        self.rpc().delete_account(request).await?;
        Ok(())
    }

    async fn moderator_delete(
        &self,
        moderator: &Principal,
        user: UserId,
        reason: &str,
    ) -> Result<()> {
        let message = pb::ModeratorDeleteRequest {
            user_id: user.to_string(),
            reason: reason.to_owned(),
        };
        let request = self.authed(moderator, message)?;
        self.rpc().moderator_delete(request).await?;
        Ok(())
    }
}
