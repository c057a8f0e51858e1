//! gRPC adapters for [`IdentityApi`]: [`IdentityGrpcServer`] serves any implementation
//! (normally [`IdentityService`](crate::IdentityService)) as `nova.identity.v1.IdentityService`,
//! and [`IdentityGrpcClient`] implements [`IdentityApi`] over the network, so callers
//! holding an `Arc<dyn IdentityApi>` do not care where identity runs.
//!
//! # Authentication on the wire
//!
//! Methods taking a `&Principal` act for a logged-in user. A [`Principal`] is plain data
//! and proves nothing across a process boundary, so the client sends the caller's
//! **access token** (`authorization: Bearer <jwt>`) plus the principal's session id
//! (`nova-session-id`); the server verifies the token with
//! [`IdentityApi::verify_access_token`] before every such call, rejects a session id that
//! is not the token's, and calls the method with the principal *it* verified. Nothing is
//! ever taken on trust from the client.
//!
//! Where the client finds the token, in this order:
//! 1. a token set with [`IdentityGrpcClient::with_token`] (a per-caller handle, cheap to
//!    create: it shares the connection);
//! 2. the token this client last verified for the principal's session through
//!    [`IdentityApi::verify_access_token`] (kept for at most the access-token lifetime), so
//!    `api.verify_access_token(bearer)` followed by `api.sessions(&principal)` works the
//!    same on an `Arc<dyn IdentityApi>` whether it is local or remote.
//!
//! Without either, the call fails with `Unauthenticated` before anything is sent.
//!
//! # Request context
//!
//! The end client's IP address and user agent travel in the `context` field of the
//! requests that take a [`RequestContext`](crate::model::RequestContext), never in metadata.

mod client;
mod convert;

use nova_core::error::{GrpcResult, grpc_answer};
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, Principal, Result, SessionId, UserId};
use nova_proto::nova::identity::v1 as pb;
use pb::identity_service_server::{IdentityService as GrpcIdentityService, IdentityServiceServer};
use tonic::Request;
use tonic::metadata::MetadataMap;

pub use client::IdentityGrpcClient;

use crate::api::IdentityApi;
use crate::model::{LoginRequest, PasskeyId, RegisterRequest};

pub use nova_auth::SESSION_ID_METADATA;

/// Serves an [`IdentityApi`] as the `nova.identity.v1.IdentityService` gRPC service.
#[derive(Clone)]
pub struct IdentityGrpcServer {
    api: Arc<dyn IdentityApi>,
}

impl IdentityGrpcServer {
    /// A server in front of `api`.
    pub fn new(api: Arc<dyn IdentityApi>) -> Self {
        Self { api }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service` or a
    /// `tonic::transport::Server`.
    pub fn into_service(self) -> IdentityServiceServer<Self> {
        IdentityServiceServer::new(self)
    }

    /// The caller, from a verified bearer token (and a matching `nova-session-id`, if sent).
    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        nova_auth::authenticate_metadata(&self.api, metadata).await
    }
}

/// Wraps a domain result into a gRPC answer.
#[async_trait]
impl GrpcIdentityService for IdentityGrpcServer {
    async fn register(&self, request: Request<pb::RegisterRequest>) -> GrpcResult<pb::Account> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let req = RegisterRequest {
                email: r.email,
                username: r.username,
                password: r.password,
            };
            self.api.register(req, &ctx).await.map(convert::account)
        };
        grpc_answer(result.await)
    }

    async fn verify_email(
        &self,
        request: Request<pb::VerifyEmailRequest>,
    ) -> GrpcResult<pb::VerifyEmailResponse> {
        let token = request.into_inner().token;
        grpc_answer(
            self.api
                .verify_email(&token)
                .await
                .map(|()| pb::VerifyEmailResponse {}),
        )
    }

    async fn resend_verification(
        &self,
        request: Request<pb::ResendVerificationRequest>,
    ) -> GrpcResult<pb::ResendVerificationResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.resend_verification(&p).await
        };
        grpc_answer(result.await.map(|()| pb::ResendVerificationResponse {}))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> GrpcResult<pb::LoginResponse> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let req = LoginRequest {
                identifier: r.identifier,
                password: r.password,
                device_token: Some(r.device_token).filter(|t| !t.is_empty()),
                code: Some(r.code).filter(|c| !c.is_empty()),
            };
            self.api.login(req, &ctx).await.map(convert::login_outcome)
        };
        grpc_answer(result.await)
    }

    async fn login_two_factor(
        &self,
        request: Request<pb::LoginTwoFactorRequest>,
    ) -> GrpcResult<pb::TokenPair> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let pair = self
                .api
                .login_two_factor(&r.challenge, &r.code, &ctx)
                .await?;
            Ok(convert::token_pair(pair))
        };
        grpc_answer(result.await)
    }

    async fn refresh(&self, request: Request<pb::RefreshRequest>) -> GrpcResult<pb::TokenPair> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let pair = self.api.refresh(&r.refresh_token, &ctx).await?;
            Ok(convert::token_pair(pair))
        };
        grpc_answer(result.await)
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> GrpcResult<pb::LogoutResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.logout(&p).await
        };
        grpc_answer(result.await.map(|()| pb::LogoutResponse {}))
    }

    async fn logout_everywhere(
        &self,
        request: Request<pb::LogoutEverywhereRequest>,
    ) -> GrpcResult<pb::LogoutEverywhereResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.logout_everywhere(&p).await
        };
        grpc_answer(
            result
                .await
                .map(|ended| pb::LogoutEverywhereResponse { ended }),
        )
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> GrpcResult<pb::ListSessionsResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.sessions(&p).await
        };
        grpc_answer(result.await.map(|sessions| pb::ListSessionsResponse {
            sessions: sessions.into_iter().map(convert::session).collect(),
        }))
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> GrpcResult<pb::RevokeSessionResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let session = SessionId::parse_field(&request.get_ref().session_id, "session_id")?;
            self.api.revoke_session(&p, session).await
        };
        grpc_answer(result.await.map(|()| pb::RevokeSessionResponse {}))
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> GrpcResult<pb::Account> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.account(&p).await
        };
        grpc_answer(result.await.map(convert::account))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> GrpcResult<pb::ChangePasswordResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.get_ref();
            self.api
                .change_password(&p, &r.current_password, &r.new_password)
                .await
        };
        grpc_answer(result.await.map(|()| pb::ChangePasswordResponse {}))
    }

    async fn request_password_reset(
        &self,
        request: Request<pb::RequestPasswordResetRequest>,
    ) -> GrpcResult<pb::RequestPasswordResetResponse> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            self.api.request_password_reset(&r.email, &ctx).await
        };
        grpc_answer(result.await.map(|()| pb::RequestPasswordResetResponse {}))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> GrpcResult<pb::ResetPasswordResponse> {
        let r = request.into_inner();
        let result = self.api.reset_password(&r.token, &r.new_password).await;
        grpc_answer(result.map(|()| pb::ResetPasswordResponse {}))
    }

    async fn enroll_totp(
        &self,
        request: Request<pb::EnrollTotpRequest>,
    ) -> GrpcResult<pb::TotpEnrollment> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.enroll_totp(&p).await
        };
        grpc_answer(result.await.map(convert::totp_enrollment))
    }

    async fn confirm_totp(
        &self,
        request: Request<pb::ConfirmTotpRequest>,
    ) -> GrpcResult<pb::ConfirmTotpResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.confirm_totp(&p, &request.get_ref().code).await
        };
        grpc_answer(
            result
                .await
                .map(|recovery_codes| pb::ConfirmTotpResponse { recovery_codes }),
        )
    }

    async fn disable_totp(
        &self,
        request: Request<pb::DisableTotpRequest>,
    ) -> GrpcResult<pb::DisableTotpResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.disable_totp(&p, &request.get_ref().code).await
        };
        grpc_answer(result.await.map(|()| pb::DisableTotpResponse {}))
    }

    async fn set_role(
        &self,
        request: Request<pb::SetRoleRequest>,
    ) -> GrpcResult<pb::SetRoleResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let user = nova_core::id::parse_uuid(&r.user_id, "user_id")?;
            self.api
                .set_role(&p, UserId::from_uuid(user), &r.role, r.granted, &r.reason)
                .await
        };
        grpc_answer(result.await.map(|changed| pb::SetRoleResponse { changed }))
    }

    async fn verify_access_token(
        &self,
        request: Request<pb::VerifyAccessTokenRequest>,
    ) -> GrpcResult<pb::Principal> {
        let token = request.into_inner().access_token;
        grpc_answer(
            self.api
                .verify_access_token(&token)
                .await
                .map(convert::principal),
        )
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> GrpcResult<pb::GetJwksResponse> {
        let result = async {
            let jwks = self.api.jwks().await?;
            let jwks_json = serde_json::to_string(&jwks).map_err(Error::internal)?;
            Ok(pb::GetJwksResponse { jwks_json })
        };
        grpc_answer(result.await)
    }

    async fn oauth_start(
        &self,
        request: Request<pb::OauthStartRequest>,
    ) -> GrpcResult<pb::OauthStartResponse> {
        let r = request.into_inner();
        let result = self.api.oauth_start(&r.provider, &r.redirect_uri).await;
        grpc_answer(result.map(convert::oauth_start))
    }

    async fn oauth_callback(
        &self,
        request: Request<pb::OauthCallbackRequest>,
    ) -> GrpcResult<pb::LoginResponse> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let outcome = self
                .api
                .oauth_callback(&r.provider, &r.code, &r.state, &ctx)
                .await?;
            Ok(convert::login_outcome(outcome))
        };
        grpc_answer(result.await)
    }

    async fn passkey_register_start(
        &self,
        request: Request<pb::PasskeyRegisterStartRequest>,
    ) -> GrpcResult<pb::PasskeyChallenge> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.passkey_register_start(&p).await
        };
        grpc_answer(result.await.map(convert::passkey_challenge))
    }

    async fn passkey_register_finish(
        &self,
        request: Request<pb::PasskeyRegisterFinishRequest>,
    ) -> GrpcResult<pb::Passkey> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let credential = convert::credential_from(&r.credential_json)?;
            self.api
                .passkey_register_finish(&p, &r.ceremony, &credential, &r.name)
                .await
        };
        grpc_answer(result.await.map(convert::passkey))
    }

    async fn passkey_login_start(
        &self,
        request: Request<pb::PasskeyLoginStartRequest>,
    ) -> GrpcResult<pb::PasskeyChallenge> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let username = Some(r.username.as_str()).filter(|u| !u.trim().is_empty());
            self.api.passkey_login_start(username, &ctx).await
        };
        grpc_answer(result.await.map(convert::passkey_challenge))
    }

    async fn passkey_login_finish(
        &self,
        request: Request<pb::PasskeyLoginFinishRequest>,
    ) -> GrpcResult<pb::TokenPair> {
        let r = request.into_inner();
        let result = async {
            let ctx = convert::context_from(r.context)?;
            let credential = convert::credential_from(&r.credential_json)?;
            self.api
                .passkey_login_finish(&r.ceremony, &credential, &ctx)
                .await
        };
        grpc_answer(result.await.map(convert::token_pair))
    }

    async fn list_passkeys(
        &self,
        request: Request<pb::ListPasskeysRequest>,
    ) -> GrpcResult<pb::ListPasskeysResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            self.api.passkeys(&p).await
        };
        grpc_answer(result.await.map(|passkeys| pb::ListPasskeysResponse {
            passkeys: passkeys.into_iter().map(convert::passkey).collect(),
        }))
    }

    async fn rename_passkey(
        &self,
        request: Request<pb::RenamePasskeyRequest>,
    ) -> GrpcResult<pb::Passkey> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let id = PasskeyId::parse_field(&r.id, "id")?;
            self.api.rename_passkey(&p, id, &r.name).await
        };
        grpc_answer(result.await.map(convert::passkey))
    }

    async fn delete_passkey(
        &self,
        request: Request<pb::DeletePasskeyRequest>,
    ) -> GrpcResult<pb::DeletePasskeyResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let id = PasskeyId::parse_field(&r.id, "id")?;
            self.api.delete_passkey(&p, id, r.end_sessions).await
        };
        grpc_answer(
            result
                .await
                .map(|ended_sessions| pb::DeletePasskeyResponse { ended_sessions }),
        )
    }

    async fn oauth_link(
        &self,
        request: Request<pb::OauthLinkRequest>,
    ) -> GrpcResult<pb::OauthLinkResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            self.api
                .oauth_link(&p, &r.provider, &r.code, &r.state)
                .await
                .map(|()| pb::OauthLinkResponse {})
        };
        grpc_answer(result.await)
    }
}
