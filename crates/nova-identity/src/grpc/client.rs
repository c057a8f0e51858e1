//! [`IdentityGrpcClient`]: [`IdentityApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use moka::sync::Cache;
use nova_core::channel::ServiceChannel;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId, UserId};
use nova_proto::nova::identity::v1 as pb;
use pb::identity_service_client::IdentityServiceClient;
use tonic::Request;
use tonic::metadata::AsciiMetadataValue;

use super::{SESSION_ID_METADATA, convert};
use crate::api::IdentityApi;
use crate::model::{
    Account, LoginOutcome, LoginRequest, OAuthStart, PasskeyChallenge, PasskeyId, PasskeyInfo,
    RegisterRequest, RequestContext, SessionInfo, TokenPair, TotpEnrollment,
};
use crate::tokens::ACCESS_TOKEN_TTL;

/// How many verified tokens a client remembers (one per session).
const REMEMBERED_TOKENS: u64 = 100_000;

/// [`IdentityApi`] implemented by calling a remote identity service over gRPC.
///
/// Cloning is cheap and shares the connection. For the methods taking a `&Principal` the
/// client needs that principal's access token: see the [module docs](super) (a token
/// from [`with_token`](Self::with_token), else the one this client verified for the
/// session, else `Unauthenticated` without a call).
#[derive(Clone)]
pub struct IdentityGrpcClient {
    inner: IdentityServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
    verified: Cache<SessionId, Arc<str>>,
}

impl IdentityGrpcClient {
    /// Connects to `endpoint` (e.g. `http://identity-service:9081`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel (e.g. `Endpoint::connect_lazy()` for a process
    /// that may start before the identity service).
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        let verified = Cache::builder()
            .max_capacity(REMEMBERED_TOKENS)
            .time_to_live(ACCESS_TOKEN_TTL.to_std().unwrap_or_default())
            .build();
        Self {
            inner: IdentityServiceClient::new(channel.into()),
            token: None,
            verified,
        }
    }

    /// A handle for one caller that sends `access_token` with every call acting for a
    /// principal. The server verifies it and rejects it unless it belongs to the
    /// principal passed to the call.
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    /// A request acting for `principal`, with its bearer token and session id.
    fn authed<T>(&self, principal: &Principal, message: T) -> Result<Request<T>> {
        let unauthenticated = || Error::from_kind(ErrorKind::Unauthenticated);
        let token = self
            .token
            .clone()
            .or_else(|| self.verified.get(&principal.session_id))
            .ok_or_else(unauthenticated)?;
        let bearer = AsciiMetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| unauthenticated())?;
        let session = AsciiMetadataValue::try_from(principal.session_id.to_string())
            .map_err(|_| unauthenticated())?;
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", bearer);
        request.metadata_mut().insert(SESSION_ID_METADATA, session);
        Ok(request)
    }

    /// The generated client (a clone: tonic clients are cheap handles on the channel).
    fn rpc(&self) -> IdentityServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

#[async_trait]
impl IdentityApi for IdentityGrpcClient {
    async fn register(&self, req: RegisterRequest, ctx: &RequestContext) -> Result<Account> {
        let request = pb::RegisterRequest {
            email: req.email,
            username: req.username,
            password: req.password,
            context: convert::context(ctx),
        };
        let account = self.rpc().register(request).await?.into_inner();
        convert::account_from(account)
    }

    async fn verify_email(&self, token: &str) -> Result<()> {
        let request = pb::VerifyEmailRequest {
            token: token.to_owned(),
        };
        self.rpc().verify_email(request).await?;
        Ok(())
    }

    async fn resend_verification(&self, principal: &Principal) -> Result<()> {
        let request = self.authed(principal, pb::ResendVerificationRequest {})?;
        self.rpc().resend_verification(request).await?;
        Ok(())
    }

    async fn login(&self, req: LoginRequest, ctx: &RequestContext) -> Result<LoginOutcome> {
        let request = pb::LoginRequest {
            identifier: req.identifier,
            password: req.password,
            context: convert::context(ctx),
            device_token: req.device_token.unwrap_or_default(),
            code: req.code.unwrap_or_default(),
        };
        convert::login_outcome_from(self.rpc().login(request).await?.into_inner())
    }

    async fn login_two_factor(
        &self,
        challenge: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        let request = pb::LoginTwoFactorRequest {
            challenge: challenge.to_owned(),
            code: code.to_owned(),
            context: convert::context(ctx),
        };
        convert::token_pair_from(self.rpc().login_two_factor(request).await?.into_inner())
    }

    async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<TokenPair> {
        let request = pb::RefreshRequest {
            refresh_token: refresh_token.to_owned(),
            context: convert::context(ctx),
        };
        convert::token_pair_from(self.rpc().refresh(request).await?.into_inner())
    }

    async fn logout(&self, principal: &Principal) -> Result<()> {
        let request = self.authed(principal, pb::LogoutRequest {})?;
        self.rpc().logout(request).await?;
        self.verified.invalidate(&principal.session_id);
        Ok(())
    }

    async fn logout_everywhere(&self, principal: &Principal) -> Result<u64> {
        let request = self.authed(principal, pb::LogoutEverywhereRequest {})?;
        let ended = self
            .rpc()
            .logout_everywhere(request)
            .await?
            .into_inner()
            .ended;
        self.verified.invalidate(&principal.session_id);
        Ok(ended)
    }

    async fn sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>> {
        let request = self.authed(principal, pb::ListSessionsRequest {})?;
        let response = self.rpc().list_sessions(request).await?.into_inner();
        response
            .sessions
            .into_iter()
            .map(convert::session_from)
            .collect()
    }

    async fn revoke_session(&self, principal: &Principal, session: SessionId) -> Result<()> {
        let message = pb::RevokeSessionRequest {
            session_id: session.to_string(),
        };
        let request = self.authed(principal, message)?;
        self.rpc().revoke_session(request).await?;
        self.verified.invalidate(&session);
        Ok(())
    }

    async fn account(&self, principal: &Principal) -> Result<Account> {
        let request = self.authed(principal, pb::GetAccountRequest {})?;
        convert::account_from(self.rpc().get_account(request).await?.into_inner())
    }

    async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<()> {
        let message = pb::ChangePasswordRequest {
            current_password: current.to_owned(),
            new_password: new.to_owned(),
        };
        let request = self.authed(principal, message)?;
        self.rpc().change_password(request).await?;
        Ok(())
    }

    async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        let request = pb::RequestPasswordResetRequest {
            email: email.to_owned(),
            context: convert::context(ctx),
        };
        self.rpc().request_password_reset(request).await?;
        Ok(())
    }

    async fn reset_password(&self, token: &str, new: &str) -> Result<()> {
        let request = pb::ResetPasswordRequest {
            token: token.to_owned(),
            new_password: new.to_owned(),
        };
        self.rpc().reset_password(request).await?;
        Ok(())
    }

    async fn enroll_totp(&self, principal: &Principal) -> Result<TotpEnrollment> {
        let request = self.authed(principal, pb::EnrollTotpRequest {})?;
        let enrollment = self.rpc().enroll_totp(request).await?.into_inner();
        Ok(convert::totp_enrollment_from(enrollment))
    }

    async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<Vec<String>> {
        let message = pb::ConfirmTotpRequest {
            code: code.to_owned(),
        };
        let request = self.authed(principal, message)?;
        Ok(self
            .rpc()
            .confirm_totp(request)
            .await?
            .into_inner()
            .recovery_codes)
    }

    async fn disable_totp(&self, principal: &Principal, code: &str) -> Result<()> {
        let message = pb::DisableTotpRequest {
            code: code.to_owned(),
        };
        let request = self.authed(principal, message)?;
        self.rpc().disable_totp(request).await?;
        Ok(())
    }

    async fn set_role(
        &self,
        admin: &Principal,
        user: UserId,
        role: &str,
        granted: bool,
        reason: &str,
    ) -> Result<bool> {
        let message = pb::SetRoleRequest {
            user_id: user.to_string(),
            role: role.to_owned(),
            granted,
            reason: reason.to_owned(),
        };
        let request = self.authed(admin, message)?;
        Ok(self.rpc().set_role(request).await?.into_inner().changed)
    }

    async fn verify_access_token(&self, token: &str) -> Result<Principal> {
        let request = pb::VerifyAccessTokenRequest {
            access_token: token.to_owned(),
        };
        let principal =
            convert::principal_from(self.rpc().verify_access_token(request).await?.into_inner())?;
        self.verified
            .insert(principal.session_id, Arc::from(token.to_owned()));
        Ok(principal)
    }

    async fn jwks(&self) -> Result<serde_json::Value> {
        let response = self
            .rpc()
            .get_jwks(pb::GetJwksRequest {})
            .await?
            .into_inner();
        serde_json::from_str(&response.jwks_json).map_err(|_| convert::bad_response("jwks_json"))
    }

    async fn oauth_start(&self, provider: &str, redirect_uri: &str) -> Result<OAuthStart> {
        let request = pb::OauthStartRequest {
            provider: provider.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        };
        let start = self.rpc().oauth_start(request).await?.into_inner();
        Ok(convert::oauth_start_from(start))
    }

    async fn oauth_callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        ctx: &RequestContext,
    ) -> Result<LoginOutcome> {
        let request = pb::OauthCallbackRequest {
            provider: provider.to_owned(),
            code: code.to_owned(),
            state: state.to_owned(),
            context: convert::context(ctx),
        };
        convert::login_outcome_from(self.rpc().oauth_callback(request).await?.into_inner())
    }

    async fn oauth_link(
        &self,
        principal: &Principal,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<()> {
        let request = self.authed(
            principal,
            pb::OauthLinkRequest {
                provider: provider.to_owned(),
                code: code.to_owned(),
                state: state.to_owned(),
            },
        )?;
        self.rpc().oauth_link(request).await?;
        Ok(())
    }

    async fn passkey_register_start(&self, principal: &Principal) -> Result<PasskeyChallenge> {
        let request = self.authed(principal, pb::PasskeyRegisterStartRequest {})?;
        let challenge = self.rpc().passkey_register_start(request).await?;
        convert::passkey_challenge_from(challenge.into_inner())
    }

    async fn passkey_register_finish(
        &self,
        principal: &Principal,
        ceremony: &str,
        credential: &serde_json::Value,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let message = pb::PasskeyRegisterFinishRequest {
            ceremony: ceremony.to_owned(),
            credential_json: credential.to_string(),
            name: name.to_owned(),
        };
        let request = self.authed(principal, message)?;
        let passkey = self.rpc().passkey_register_finish(request).await?;
        convert::passkey_from(passkey.into_inner())
    }

    async fn passkey_login_start(
        &self,
        username: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PasskeyChallenge> {
        let request = pb::PasskeyLoginStartRequest {
            username: username.unwrap_or_default().to_owned(),
            context: convert::context(ctx),
        };
        let challenge = self.rpc().passkey_login_start(request).await?;
        convert::passkey_challenge_from(challenge.into_inner())
    }

    async fn passkey_login_finish(
        &self,
        ceremony: &str,
        credential: &serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        let request = pb::PasskeyLoginFinishRequest {
            ceremony: ceremony.to_owned(),
            credential_json: credential.to_string(),
            context: convert::context(ctx),
        };
        convert::token_pair_from(self.rpc().passkey_login_finish(request).await?.into_inner())
    }

    async fn passkeys(&self, principal: &Principal) -> Result<Vec<PasskeyInfo>> {
        let request = self.authed(principal, pb::ListPasskeysRequest {})?;
        let response = self.rpc().list_passkeys(request).await?.into_inner();
        response
            .passkeys
            .into_iter()
            .map(convert::passkey_from)
            .collect()
    }

    async fn rename_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let message = pb::RenamePasskeyRequest {
            id: id.to_string(),
            name: name.to_owned(),
        };
        let request = self.authed(principal, message)?;
        convert::passkey_from(self.rpc().rename_passkey(request).await?.into_inner())
    }

    async fn delete_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        end_sessions: bool,
    ) -> Result<u64> {
        let message = pb::DeletePasskeyRequest {
            id: id.to_string(),
            end_sessions,
        };
        let request = self.authed(principal, message)?;
        let response = self.rpc().delete_passkey(request).await?.into_inner();
        Ok(response.ended_sessions)
    }
}
