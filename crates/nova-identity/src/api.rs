//! The identity API: implemented in-process by [`IdentityService`](crate::IdentityService)
//! and remotely by the gRPC client, so callers hold an `Arc<dyn IdentityApi>`.

use async_trait::async_trait;
use nova_core::{Principal, Result, SessionId, UserId};

use crate::model::{
    Account, LoginOutcome, LoginRequest, OAuthStart, PasskeyChallenge, PasskeyId, PasskeyInfo,
    RegisterRequest, RequestContext, SessionInfo, TokenPair, TotpEnrollment,
};

/// The answer of the passkey methods' default bodies: an implementation that does not
/// serve passkeys (a test double, a decorator that predates them).
fn passkeys_unavailable<T>() -> Result<T> {
    Err(nova_core::Error::new(
        nova_core::ErrorKind::Unavailable,
        "passkeys are not served by this identity implementation",
    ))
}

/// Accounts, logins, sessions, tokens and second factors.
///
/// Errors follow `nova_core::ErrorKind`: bad input is `InvalidArgument` naming the field,
/// wrong credentials are one generic `Unauthenticated` whatever was wrong, too many
/// attempts are `RateLimited`.
#[async_trait]
pub trait IdentityApi: Send + Sync {
    /// Creates an account and sends the email verification link. The answer is the same
    /// when the email already has an account (its owner is emailed instead), so it does
    /// not reveal which emails are registered; a taken username is still reported.
    async fn register(&self, req: RegisterRequest, ctx: &RequestContext) -> Result<Account>;
    /// Marks the email verified (single-use token from the email).
    async fn verify_email(&self, token: &str) -> Result<()>;
    /// Sends a fresh verification email.
    async fn resend_verification(&self, principal: &Principal) -> Result<()>;
    /// Password login; may ask for a second factor. Budgets are reserved before the
    /// password is hashed; a full hashing queue is `Unavailable` (503, retry).
    async fn login(&self, req: LoginRequest, ctx: &RequestContext) -> Result<LoginOutcome>;
    /// Completes a login with a TOTP or recovery code.
    async fn login_two_factor(
        &self,
        challenge: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<TokenPair>;
    /// Exchanges a refresh token for a new pair. Reusing an already-used token revokes
    /// the whole session.
    async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<TokenPair>;
    /// Ends the caller's session.
    async fn logout(&self, principal: &Principal) -> Result<()>;
    /// Ends every session of the caller; returns how many.
    async fn logout_everywhere(&self, principal: &Principal) -> Result<u64>;
    /// The caller's active sessions.
    async fn sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>>;
    /// Ends one of the caller's sessions.
    async fn revoke_session(&self, principal: &Principal, session: SessionId) -> Result<()>;
    /// The caller's account.
    async fn account(&self, principal: &Principal) -> Result<Account>;
    /// Changes the password (needs the current one) and ends the other sessions.
    async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<()>;
    /// Emails a reset link if the address has an account (the answer is the same either way).
    async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()>;
    /// Sets a new password with a reset token and ends every session.
    async fn reset_password(&self, token: &str, new: &str) -> Result<()>;
    /// Starts TOTP enrolment (not active until confirmed).
    async fn enroll_totp(&self, principal: &Principal) -> Result<TotpEnrollment>;
    /// Confirms enrolment with a current code; returns ten recovery codes, shown once.
    async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<Vec<String>>;
    /// Turns TOTP off (needs a current code or a recovery code).
    async fn disable_totp(&self, principal: &Principal, code: &str) -> Result<()>;
    /// Admins only (anyone else: `NotFound`): grants or revokes a staff role
    /// (`moderator`, `admin`) on `user`, with `reason`; whether it changed. The account's
    /// next tokens carry its roles as scopes; a `identity.role_changed` event tells
    /// trust & safety's audit log.
    async fn set_role(
        &self,
        admin: &Principal,
        user: UserId,
        role: &str,
        granted: bool,
        reason: &str,
    ) -> Result<bool>;
    /// Verifies an access token and returns who it is for.
    async fn verify_access_token(&self, token: &str) -> Result<Principal>;
    /// Whether `session` has ended (or never existed). Outside the identity process
    /// (the gRPC client) this answers `false`: there, verifiers learn of ended sessions
    /// from `session.revoked` events ([`nova_auth::Revocations`]).
    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        let _ = session;
        Ok(false)
    }
    /// The public signing keys (JWKS).
    async fn jwks(&self) -> Result<serde_json::Value>;
    /// A short-lived service token for `service`, if `credential` is its credential under
    /// the deployment's service secret (client-credentials style; see
    /// [`nova_auth::service`]). `Unauthenticated` otherwise, and always where no service
    /// secret is configured.
    async fn issue_service_token(
        &self,
        service: &str,
        credential: &str,
    ) -> Result<crate::IssuedToken> {
        let _ = (service, credential);
        Err(nova_core::Error::new(
            nova_core::ErrorKind::Unavailable,
            "service tokens are minted by the identity service itself",
        ))
    }
    /// Starts an OpenID Connect login with `provider` (`google`, `apple`).
    async fn oauth_start(&self, provider: &str, redirect_uri: &str) -> Result<OAuthStart>;
    /// Finishes it: checks state, exchanges the code, verifies the ID token, and logs in
    /// (linking to an account whose email both sides verified, or creating one). An
    /// account with TOTP on answers with the same second-factor challenge as a password
    /// login.
    async fn oauth_callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        ctx: &RequestContext,
    ) -> Result<LoginOutcome>;
    /// Links the provider identity of a finished authorization (after
    /// [`oauth_start`](Self::oauth_start)) to the caller's own account, from its
    /// settings: the way to connect a provider to an account whose email was not
    /// verified. An identity already linked to another account is a `Conflict`.
    async fn oauth_link(
        &self,
        principal: &Principal,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<()>;

    /// Starts registering a passkey for the caller: WebAuthn creation options and a
    /// ceremony bound to the caller's session (single use, 5 minutes).
    async fn passkey_register_start(&self, principal: &Principal) -> Result<PasskeyChallenge> {
        let _ = principal;
        passkeys_unavailable()
    }
    /// Finishes it with the authenticator's `credential` (the `PublicKeyCredential` JSON
    /// of `navigator.credentials.create()`) and stores the passkey as `name`. A bad
    /// ceremony or credential is `InvalidArgument` naming `ceremony` or `credential`.
    async fn passkey_register_finish(
        &self,
        principal: &Principal,
        ceremony: &str,
        credential: &serde_json::Value,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let _ = (principal, ceremony, credential, name);
        passkeys_unavailable()
    }
    /// Starts a passkey sign-in: for `username` (or email) the account's passkeys are
    /// offered; without one, any discoverable passkey may answer (usernameless).
    async fn passkey_login_start(
        &self,
        username: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PasskeyChallenge> {
        let _ = (username, ctx);
        passkeys_unavailable()
    }
    /// Finishes a passkey sign-in with the assertion (`navigator.credentials.get()`
    /// JSON): a session like a password login's, with no second-factor step (a passkey
    /// verifies the user itself). Failures are one `Unauthenticated` and count against
    /// the same per-account and per-address budgets as passwords; a replayed assertion
    /// or a signature counter that went backwards is refused.
    async fn passkey_login_finish(
        &self,
        ceremony: &str,
        credential: &serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        let _ = (ceremony, credential, ctx);
        passkeys_unavailable()
    }
    /// The caller's passkeys, oldest first.
    async fn passkeys(&self, principal: &Principal) -> Result<Vec<PasskeyInfo>> {
        let _ = principal;
        passkeys_unavailable()
    }
    /// Renames one of the caller's passkeys (someone else's is `NotFound`).
    async fn rename_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let _ = (principal, id, name);
        passkeys_unavailable()
    }
    /// Deletes one of the caller's passkeys; with `end_sessions`, the sessions it opened
    /// end too (how many is the answer). The last way to sign in of an account without
    /// a password or linked provider is never deleted (`Conflict`).
    async fn delete_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        end_sessions: bool,
    ) -> Result<u64> {
        let _ = (principal, id, end_sessions);
        passkeys_unavailable()
    }
}
