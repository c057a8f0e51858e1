//! gRPC adapters for [`UserApi`]: [`UserGrpcServer`] serves any implementation
//! (normally [`UserService`](crate::UserService)) as `nova.user.v1.UserService`, and
//! [`UserGrpcClient`] implements [`UserApi`] over the network.
//!
//! Methods taking a `&Principal` carry the caller's access token
//! (`authorization: Bearer`, plus `nova-session-id`); the server authenticates it with
//! its [`Authenticator`] and acts for the principal *it* verified. The client sends the
//! token given to [`UserGrpcClient::with_token`]; without one such calls fail with
//! `Unauthenticated` before anything is sent. Lookups (profiles, privacy) need no token.

mod client;
mod convert;

use nova_core::error::{GrpcResult, cap, grpc_answer};

pub use crate::service::MAX_BATCH;
use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{Authenticator, authenticate_metadata};
use nova_core::{Principal, Result, UserId};
use nova_proto::nova::user::v1 as pb;
use pb::user_service_server::{UserService as GrpcUserService, UserServiceServer};
use tonic::Request;
use tonic::metadata::MetadataMap;

pub use client::UserGrpcClient;

use crate::api::UserApi;

/// Serves a [`UserApi`] as the `nova.user.v1.UserService` gRPC service.
#[derive(Clone)]
pub struct UserGrpcServer {
    api: Arc<dyn UserApi>,
    auth: Arc<dyn Authenticator>,
}

impl UserGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn UserApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> UserServiceServer<Self> {
        UserServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }
}

/// Wraps a domain result into a gRPC answer.
#[async_trait]
impl GrpcUserService for UserGrpcServer {
    async fn get_profile(
        &self,
        request: Request<pb::GetProfileRequest>,
    ) -> GrpcResult<pb::Profile> {
        let r = request.into_inner();
        let result = async {
            let id: UserId = convert::id_arg(&r.user_id, "user_id")?;
            self.api.profile(id).await.map(convert::profile)
        };
        grpc_answer(result.await)
    }

    async fn get_profile_by_username(
        &self,
        request: Request<pb::GetProfileByUsernameRequest>,
    ) -> GrpcResult<pb::Profile> {
        let r = request.into_inner();
        grpc_answer(
            self.api
                .profile_by_username(&r.username)
                .await
                .map(convert::profile),
        )
    }

    async fn get_profiles(
        &self,
        request: Request<pb::GetProfilesRequest>,
    ) -> GrpcResult<pb::GetProfilesResponse> {
        let r = request.into_inner();
        let result = async {
            cap("user_ids", r.user_ids.len(), MAX_BATCH)?;
            let ids: Vec<UserId> = convert::ids_arg(&r.user_ids, "user_ids")?;
            let profiles = self.api.profiles(&ids).await?;
            Ok(pb::GetProfilesResponse {
                profiles: profiles.into_iter().map(convert::profile).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> GrpcResult<pb::Profile> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let update = convert::update_from(request.into_inner())?;
            self.api
                .update_profile(&p, update)
                .await
                .map(convert::profile)
        };
        grpc_answer(result.await)
    }

    async fn get_settings(
        &self,
        request: Request<pb::GetSettingsRequest>,
    ) -> GrpcResult<pb::Settings> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.settings(&p).await.map(convert::settings)
        };
        grpc_answer(result.await)
    }

    async fn update_settings(
        &self,
        request: Request<pb::UpdateSettingsRequest>,
    ) -> GrpcResult<pb::Settings> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let settings = convert::settings_arg(request.into_inner().settings)?;
            self.api
                .update_settings(&p, settings)
                .await
                .map(convert::settings)
        };
        grpc_answer(result.await)
    }

    async fn get_privacy(
        &self,
        request: Request<pb::GetPrivacyRequest>,
    ) -> GrpcResult<pb::GetPrivacyResponse> {
        let r = request.into_inner();
        let result = async {
            cap("user_ids", r.user_ids.len(), MAX_BATCH)?;
            let ids: Vec<UserId> = convert::ids_arg(&r.user_ids, "user_ids")?;
            let settings = self.api.privacy(&ids).await?;
            Ok(pb::GetPrivacyResponse {
                settings: settings.into_iter().map(convert::privacy).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn change_username(
        &self,
        request: Request<pb::ChangeUsernameRequest>,
    ) -> GrpcResult<pb::Profile> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let username = request.into_inner().username;
            self.api
                .change_username(&p, &username)
                .await
                .map(convert::profile)
        };
        grpc_answer(result.await)
    }

    async fn deactivate(
        &self,
        request: Request<pb::DeactivateRequest>,
    ) -> GrpcResult<pb::DeactivateResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.deactivate(&p).await
        };
        grpc_answer(result.await.map(|()| pb::DeactivateResponse {}))
    }

    async fn reactivate(
        &self,
        request: Request<pb::ReactivateRequest>,
    ) -> GrpcResult<pb::ReactivateResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.reactivate(&p).await
        };
        grpc_answer(result.await.map(|()| pb::ReactivateResponse {}))
    }

    async fn delete_account(
        &self,
        request: Request<pb::DeleteAccountRequest>,
    ) -> GrpcResult<pb::DeleteAccountResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let reason = request.into_inner().reason;
            self.api.delete_account(&p, &reason).await
        };
        grpc_answer(result.await.map(|()| pb::DeleteAccountResponse {}))
    }

    async fn moderator_delete(
        &self,
        request: Request<pb::ModeratorDeleteRequest>,
    ) -> GrpcResult<pb::ModeratorDeleteResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let user: UserId = convert::id_arg(&r.user_id, "user_id")?;
            self.api.moderator_delete(&p, user, &r.reason).await
        };
        grpc_answer(result.await.map(|()| pb::ModeratorDeleteResponse {}))
    }
}
