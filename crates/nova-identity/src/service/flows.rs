//! The [`IdentityApi`] flows of [`IdentityService`].

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId, UserId};
use nova_proto::nova::identity::v1 as events;

use super::{
    IdentityService, ROLE_ADMIN, ROLE_MODERATOR, bad_credentials, hash_secret, new_secret,
};
use crate::api::IdentityApi;
use crate::limits::{rate_limited, take};
use crate::model::{
    Account, LoginOutcome, LoginRequest, OAuthStart, PasskeyChallenge, PasskeyId, PasskeyInfo,
    RegisterRequest, RequestContext, SessionInfo, TokenPair, TotpEnrollment,
};
use crate::store::{AccountRecord, OneTimeToken, TokenPurpose};
use crate::validation;
use crate::{Totp, TotpSecret, check_policy, generate_recovery_codes, verify_recovery_code};

/// Longest password accepted before any work (the policy says 128 characters).
const MAX_PASSWORD_CHARS: usize = 128;
/// Longest login identifier (an email).
const MAX_IDENTIFIER_CHARS: usize = validation::MAX_EMAIL_LEN;

/// The answer while the second factor is locked.
fn factor_locked() -> Error {
    Error::new(
        ErrorKind::RateLimited,
        "too many wrong codes: two-factor login is locked for a while, try again later",
    )
}

pub(super) fn ip_key(prefix: &str, ctx: &RequestContext) -> String {
    match ctx.ip {
        Some(ip) => format!("{prefix}:ip:{ip}"),
        None => format!("{prefix}:ip:unknown"),
    }
}

impl IdentityService {
    async fn verification_token(
        &self,
        account: &AccountRecord,
        purpose: TokenPurpose,
    ) -> Result<String> {
        let (token, hash) = new_secret();
        let ttl = match purpose {
            TokenPurpose::VerifyEmail => self.config.verify_email_ttl,
            TokenPurpose::PasswordReset => self.config.password_reset_ttl,
        };
        self.store
            .insert_one_time_token(&OneTimeToken {
                token_hash: hash,
                user_id: account.id,
                purpose,
                created_at: self.now(),
                expires_at: self.now() + ttl,
            })
            .await?;
        Ok(token)
    }

    /// Checks a TOTP code (recording its step) or a recovery code (consuming it), within
    /// the account's second-factor budget: the attempt is reserved before the code is
    /// looked at, so concurrent guesses cannot overrun it, and a success clears it.
    pub(crate) async fn check_second_factor(
        &self,
        account: &AccountRecord,
        code: &str,
    ) -> Result<()> {
        let code = code.trim();
        validation::required("code", code, 64)?;
        let sealed = account
            .totp_secret_enc
            .as_deref()
            .ok_or_else(bad_credentials)?;
        let now = self.now();
        if self
            .store
            .reserve_second_factor_attempt(
                account.id,
                now,
                self.config.second_factor_failures,
                now + self.config.second_factor_lock,
            )
            .await?
            .is_some()
        {
            return Err(factor_locked());
        }
        self.verify_second_factor(account, sealed, code).await?;
        self.store.clear_second_factor_failures(account.id).await
    }

    async fn verify_second_factor(
        &self,
        account: &AccountRecord,
        sealed: &str,
        code: &str,
    ) -> Result<()> {
        if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
            let secret = TotpSecret::from_base32(&self.secrets.decrypt(sealed)?)?;
            let totp = Totp::new(&secret, &account.username, self.clock.clone())?;
            let last = account.totp_last_step.and_then(|s| u64::try_from(s).ok());
            let step = totp.verify(code, last).map_err(|_| bad_credentials())?;
            // Atomic: a code replayed concurrently is accepted once.
            if !self
                .store
                .advance_totp_step(account.id, step as i64)
                .await?
            {
                return Err(bad_credentials());
            }
            return Ok(());
        }
        let hashes = self.store.recovery_codes(account.id).await?;
        let remaining = verify_recovery_code(code, &hashes).map_err(|_| bad_credentials())?;
        let used = hashes
            .iter()
            .find(|h| !remaining.contains(h))
            .ok_or_else(bad_credentials)?;
        if !self.store.delete_recovery_code(account.id, used).await? {
            return Err(bad_credentials());
        }
        Ok(())
    }

    /// Whether `token` is the current refresh token of a live, recently used session of
    /// `account` (the device already logged in as its owner).
    async fn known_device(&self, account: &AccountRecord, token: Option<&str>) -> Result<bool> {
        let Some(token) = token
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
        else {
            return Ok(false);
        };
        let now = self.now();
        let Some(record) = self.store.refresh_token(&hash_secret(token)).await? else {
            return Ok(false);
        };
        if record.rotated_at.is_some() || record.expires_at <= now {
            return Ok(false);
        }
        Ok(matches!(
            self.store.session(record.session_id).await?,
            Some(s) if s.user_id == account.id
                && s.revoked_at.is_none()
                && now - s.last_seen_at <= self.config.recent_session
        ))
    }

    /// A second-factor challenge for `account` (password or provider login).
    pub(crate) async fn challenge(&self, account: &AccountRecord) -> Result<LoginOutcome> {
        let (challenge, hash) = new_secret();
        let expires_at = self.now() + self.config.challenge_ttl;
        self.store
            .create_challenge(&hash, account.id, expires_at)
            .await?;
        Ok(LoginOutcome::TwoFactorRequired {
            challenge,
            expires_at,
        })
    }

    async fn rotate(&self, presented: &[u8], ctx: &RequestContext) -> Result<TokenPair> {
        let _ = ctx;
        let now = self.now();
        let record = self
            .store
            .refresh_token(presented)
            .await?
            .ok_or_else(bad_credentials)?;
        let session = self
            .store
            .session(record.session_id)
            .await?
            .ok_or_else(bad_credentials)?;
        if session.revoked_at.is_some() || record.expires_at <= now {
            return Err(bad_credentials());
        }
        let mut old = record.token_hash.clone();
        if let Some(rotated_at) = record.rotated_at {
            // Reuse. Only the immediate predecessor of the current token, within the
            // grace period, is a benign retry; anything else means the family leaked.
            let current = self.store.current_refresh_token(session.id).await?;
            let benign = now - rotated_at <= self.config.refresh_grace
                && current
                    .as_ref()
                    .is_some_and(|c| Some(&c.token_hash) == record.replaced_by.as_ref());
            match current {
                Some(current) if benign => old = current.token_hash,
                _ => {
                    tracing::warn!(session = %session.id, "refresh token reuse: revoking the session");
                    self.end_sessions(session.user_id, &[session.id], "refresh_token_reuse")
                        .await?;
                    return Err(bad_credentials());
                }
            }
        }
        let (token, next) = self.new_refresh(session.id, now);
        if !self.store.rotate_refresh_token(&old, &next, now).await? {
            // A concurrent refresh won the race with the same token: that is reuse.
            self.end_sessions(session.user_id, &[session.id], "refresh_token_reuse")
                .await?;
            return Err(bad_credentials());
        }
        self.token_pair(session.user_id, session.id, token, next.expires_at)
            .await
    }
}

#[async_trait]
impl IdentityApi for IdentityService {
    async fn register(&self, req: RegisterRequest, ctx: &RequestContext) -> Result<Account> {
        let email = validation::email(&req.email)?;
        let username = validation::username(&req.username)?;
        validation::required("password", &req.password, MAX_PASSWORD_CHARS)?;
        check_policy(&req.password, &username, &email)?;
        take(
            self.limiter.as_ref(),
            &ip_key("register", ctx),
            &self.config.limits.registrations_per_ip,
        )
        .await?;
        let now = self.now();
        let account = AccountRecord {
            id: nova_core::UserId::new(),
            email,
            email_verified_at: None,
            username,
            password_hash: Some(self.passwords.hash(&req.password).await?),
            totp_secret_enc: None,
            totp_enabled_at: None,
            totp_last_step: None,
            created_at: now,
        };
        let (token, hash) = new_secret();
        let verification = OneTimeToken {
            token_hash: hash,
            user_id: account.id,
            purpose: TokenPurpose::VerifyEmail,
            created_at: now,
            expires_at: now + self.config.verify_email_ttl,
        };
        let event = self.event(
            "user.registered",
            account.id,
            &events::UserRegistered {
                user_id: account.id.to_string(),
                username: account.username.clone(),
                email_verified: false,
            },
        );
        match self
            .store
            .create_account(&account, &verification, &[event])
            .await
        {
            Ok(()) => {
                self.wake_relay();
                self.send_mail(&account.email, "verify_email", "Confirm your email", token)
                    .await;
            }
            Err(e) if e.kind() == &ErrorKind::Conflict && e.message().starts_with("email") => {
                // Usernames are public, so a taken one may be said; a taken email may
                // not: answer as for a new account and tell the owner instead.
                if self
                    .store
                    .account_by_username(&account.username)
                    .await?
                    .is_some()
                {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        "username: is already registered",
                    ));
                }
                self.notify_existing_owner(&account.email).await?;
            }
            Err(e) => return Err(e),
        }
        Ok(Self::account_view(&account))
    }

    async fn verify_email(&self, token: &str) -> Result<()> {
        validation::required("token", token, 128)?;
        let user = self
            .store
            .consume_one_time_token(&hash_secret(token), TokenPurpose::VerifyEmail, self.now())
            .await?
            .ok_or_else(|| Error::invalid("token", "is invalid or expired"))?;
        let event = self.event(
            "user.email_verified",
            user,
            &events::EmailVerified {
                user_id: user.to_string(),
            },
        );
        self.store
            .mark_email_verified(user, self.now(), &[event])
            .await?;
        self.wake_relay();
        Ok(())
    }

    async fn resend_verification(&self, principal: &Principal) -> Result<()> {
        let account = self.own_account(principal).await?;
        if account.email_verified_at.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "email: is already verified",
            ));
        }
        take(
            self.limiter.as_ref(),
            &format!("verify:acct:{}", account.id),
            &self.config.limits.resets,
        )
        .await?;
        let token = self
            .verification_token(&account, TokenPurpose::VerifyEmail)
            .await?;
        self.send_mail(&account.email, "verify_email", "Confirm your email", token)
            .await;
        Ok(())
    }

    async fn login(&self, req: LoginRequest, ctx: &RequestContext) -> Result<LoginOutcome> {
        let identifier = req.identifier.trim();
        validation::required("identifier", identifier, MAX_IDENTIFIER_CHARS)?;
        validation::required("password", &req.password, MAX_PASSWORD_CHARS)?;
        if let Some(code) = &req.code {
            validation::required("code", code.trim(), 64)?;
        }
        let limits = &self.config.limits;
        // Budgets are taken (GCRA, atomically) before any password work: checking first
        // and spending after the hash let every one of a thousand concurrent guesses in.
        take(
            self.limiter.as_ref(),
            &ip_key("login", ctx),
            &limits.failures_per_ip,
        )
        .await?;
        let account = if identifier.contains('@') {
            self.store.account_by_email(identifier).await?
        } else {
            self.store.account_by_username(identifier).await?
        };
        // The per-account budget is keyed by the account, not by how it was typed; an
        // unknown name gets a bucket of its own so both answer alike.
        let account_bucket = match &account {
            Some(a) => format!("login:acct:{}", a.id),
            None => format!("login:unknown:{}", identifier.to_lowercase()),
        };
        let known_device = match &account {
            Some(a) => self.known_device(a, req.device_token.as_deref()).await?,
            None => false,
        };
        // A device that already holds a recent session of this account, or a login that
        // brings a second factor, is not held back by the account budget (only by the
        // address budget), so spending it does not lock the owner out.
        let brings_factor = req.code.is_some()
            && account
                .as_ref()
                .is_some_and(|a| a.totp_enabled_at.is_some());
        if !known_device
            && !self
                .limiter
                .check(&account_bucket, &limits.failures_per_account)
                .await?
                .allowed
            && !brings_factor
        {
            return Err(rate_limited());
        }
        // Same work and same answer whether the account exists or the password is wrong.
        let phc = account.as_ref().and_then(|a| a.password_hash.as_deref());
        let verified = self.passwords.verify_or_dummy(&req.password, phc).await?;
        let account = match (account, verified) {
            (Some(account), true) => account,
            _ => return Err(bad_credentials()),
        };
        if let Some(hash) = account.password_hash.as_deref()
            && self.passwords.needs_rehash(hash)
        {
            let rehashed = self.passwords.hash(&req.password).await?;
            self.store
                .update_password_hash(account.id, &rehashed, self.now())
                .await?;
        }
        if account.totp_enabled_at.is_some() {
            let Some(code) = &req.code else {
                return self.challenge(&account).await;
            };
            // A wrong code, or a locked factor, answers like a wrong password: this path
            // may be reached past a spent account budget, and must not tell a guesser
            // that the password was right.
            self.check_second_factor(&account, code)
                .await
                .map_err(|e| match e.kind() {
                    ErrorKind::Unauthenticated | ErrorKind::RateLimited => bad_credentials(),
                    _ => e,
                })?;
        }
        self.open_session(account.id, ctx)
            .await
            .map(LoginOutcome::Authenticated)
    }

    async fn login_two_factor(
        &self,
        challenge: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        validation::required("challenge", challenge, 128)?;
        let hash = hash_secret(challenge);
        let (user, attempts) = self
            .store
            .attempt_challenge(&hash, self.now())
            .await?
            .ok_or_else(bad_credentials)?;
        if attempts > self.config.challenge_attempts {
            self.store.consume_challenge(&hash, self.now()).await?;
            return Err(rate_limited());
        }
        let account = self
            .store
            .account_by_id(user)
            .await?
            .ok_or_else(bad_credentials)?;
        self.check_second_factor(&account, code).await?;
        if !self.store.consume_challenge(&hash, self.now()).await? {
            return Err(bad_credentials());
        }
        self.open_session(account.id, ctx).await
    }

    async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<TokenPair> {
        validation::required("refresh_token", refresh_token, 128)?;
        self.rotate(&hash_secret(refresh_token), ctx).await
    }

    async fn logout(&self, principal: &Principal) -> Result<()> {
        self.end_sessions(principal.user_id, &[principal.session_id], "logout")
            .await
            .map(|_| ())
    }

    async fn logout_everywhere(&self, principal: &Principal) -> Result<u64> {
        self.end_all_sessions(principal.user_id, "logout_everywhere")
            .await
    }

    async fn sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>> {
        Ok(self
            .store
            .active_sessions(principal.user_id)
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                current: s.id == principal.session_id,
                id: s.id,
                user_agent: s.user_agent,
                ip: s.ip,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
            })
            .collect())
    }

    async fn revoke_session(&self, principal: &Principal, session: SessionId) -> Result<()> {
        // Someone else's session is "not found", exactly like a missing one.
        match self.store.session(session).await? {
            Some(s) if s.user_id == principal.user_id && s.revoked_at.is_none() => self
                .end_sessions(principal.user_id, &[session], "revoked")
                .await
                .map(|_| ()),
            _ => Err(Error::not_found()),
        }
    }

    async fn account(&self, principal: &Principal) -> Result<Account> {
        self.own_account(principal)
            .await
            .map(|a| Self::account_view(&a))
    }

    async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<()> {
        validation::required("current_password", current, MAX_PASSWORD_CHARS)?;
        validation::required("new_password", new, MAX_PASSWORD_CHARS)?;
        let account = self.own_account(principal).await?;
        // A stolen access token must not make this an unlimited password oracle.
        take(
            self.limiter.as_ref(),
            &format!("password:acct:{}", account.id),
            &self.config.limits.failures_per_account,
        )
        .await?;
        let ok = match account.password_hash.as_deref() {
            Some(hash) => self.passwords.verify(current, hash).await?,
            None => false,
        };
        if !ok {
            return Err(Error::invalid("current_password", "is not correct"));
        }
        check_policy(new, &account.username, &account.email).map_err(|e| {
            Error::invalid("new_password", e.message().trim_start_matches("password: "))
        })?;
        self.set_password_ending_sessions(
            &account,
            new,
            Some(principal.session_id),
            "password_changed",
        )
        .await
    }

    async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        let email = validation::email(email)?;
        take(
            self.limiter.as_ref(),
            &ip_key("reset", ctx),
            &self.config.limits.resets,
        )
        .await?;
        take(
            self.limiter.as_ref(),
            &format!("reset:email:{}", email.to_lowercase()),
            &self.config.limits.resets,
        )
        .await?;
        // Same answer whether or not the address has an account.
        if let Some(account) = self.store.account_by_email(&email).await? {
            let token = self
                .verification_token(&account, TokenPurpose::PasswordReset)
                .await?;
            self.send_mail(
                &account.email,
                "password_reset",
                "Reset your password",
                token,
            )
            .await;
        }
        Ok(())
    }

    async fn reset_password(&self, token: &str, new: &str) -> Result<()> {
        validation::required("token", token, 128)?;
        validation::required("new_password", new, MAX_PASSWORD_CHARS)?;
        let hash = hash_secret(token);
        let user = self
            .store
            .consume_one_time_token(&hash, TokenPurpose::PasswordReset, self.now())
            .await?
            .ok_or_else(|| Error::invalid("token", "is invalid or expired"))?;
        let account = self
            .store
            .account_by_id(user)
            .await?
            .ok_or_else(|| Error::invalid("token", "is invalid or expired"))?;
        check_policy(new, &account.username, &account.email).map_err(|e| {
            Error::invalid("new_password", e.message().trim_start_matches("password: "))
        })?;
        self.set_password_ending_sessions(&account, new, None, "password_reset")
            .await
    }

    async fn enroll_totp(&self, principal: &Principal) -> Result<TotpEnrollment> {
        let account = self.own_account(principal).await?;
        if account.totp_enabled_at.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "two-factor login is already enabled",
            ));
        }
        let secret = TotpSecret::generate();
        let totp = Totp::new(&secret, &account.username, self.clock.clone())?;
        let sealed = self.secrets.encrypt(&secret.to_base32())?;
        self.store
            .set_totp_secret(account.id, Some(&sealed), self.now())
            .await?;
        Ok(TotpEnrollment {
            secret: secret.to_base32(),
            otpauth_uri: totp.otpauth_uri()?,
        })
    }

    async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<Vec<String>> {
        validation::required("code", code, 16)?;
        let account = self.own_account(principal).await?;
        let sealed = match (&account.totp_secret_enc, account.totp_enabled_at) {
            (Some(sealed), None) => sealed,
            (_, Some(_)) => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "two-factor login is already enabled",
                ));
            }
            (None, None) => return Err(Error::invalid("code", "start enrolment first")),
        };
        let secret = TotpSecret::from_base32(&self.secrets.decrypt(sealed)?)?;
        let totp = Totp::new(&secret, &account.username, self.clock.clone())?;
        let step = totp
            .verify(code.trim(), None)
            .map_err(|_| Error::invalid("code", "is not correct"))?;
        let recovery = generate_recovery_codes();
        self.store
            .enable_totp(account.id, step as i64, &recovery.hashes, self.now())
            .await?;
        Ok(recovery.codes)
    }

    async fn disable_totp(&self, principal: &Principal, code: &str) -> Result<()> {
        let account = self.own_account(principal).await?;
        if account.totp_enabled_at.is_none() {
            return Err(Error::invalid("code", "two-factor login is not enabled"));
        }
        self.check_second_factor(&account, code)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Unauthenticated => Error::invalid("code", "is not correct"),
                _ => e,
            })?;
        self.store
            .set_totp_secret(account.id, None, self.now())
            .await
    }

    async fn set_role(
        &self,
        admin: &Principal,
        user: UserId,
        role: &str,
        granted: bool,
        reason: &str,
    ) -> Result<bool> {
        // Anyone but an admin is told the route does not exist.
        if !admin.is_user() || !admin.has_scope(ROLE_ADMIN) {
            return Err(Error::not_found());
        }
        if role != ROLE_MODERATOR && role != ROLE_ADMIN {
            return Err(Error::invalid("role", "must be moderator or admin"));
        }
        if reason.trim().is_empty() {
            return Err(Error::invalid("reason", "is required"));
        }
        if reason.chars().count() > 1_000 {
            return Err(Error::invalid("reason", "must be at most 1000 characters"));
        }
        if user == admin.user_id && role == ROLE_ADMIN && !granted {
            return Err(Error::invalid(
                "user_id",
                "an admin cannot revoke their own admin role",
            ));
        }
        let event = self.event(
            nova_events::types::ROLE_CHANGED,
            user,
            &events::RoleChanged {
                user_id: user.to_string(),
                role: role.to_owned(),
                granted,
                actor_id: admin.user_id.to_string(),
                reason: reason.to_owned(),
            },
        );
        let changed = self
            .store
            .set_role(user, role, granted, self.now(), &[event])
            .await?;
        if changed {
            self.wake_relay();
        }
        Ok(changed)
    }

    async fn verify_access_token(&self, token: &str) -> Result<Principal> {
        let principal = self.verifier.verify(token)?;
        // Here, unlike in services that verify from the JWKS alone, an ended session
        // ends its access tokens at once.
        match self.store.session(principal.session_id).await? {
            Some(s) if s.revoked_at.is_none() && s.user_id == principal.user_id => Ok(principal),
            _ => Err(Error::from_kind(ErrorKind::Unauthenticated)),
        }
    }

    async fn session_ended(&self, session: SessionId) -> Result<bool> {
        let session = self.store.session(session).await?;
        Ok(session.is_none_or(|s| s.revoked_at.is_some()))
    }

    async fn jwks(&self) -> Result<serde_json::Value> {
        Ok(self.jwks_json())
    }

    async fn issue_service_token(
        &self,
        service: &str,
        credential: &str,
    ) -> Result<crate::IssuedToken> {
        self.mint_service_token(service, credential)
    }

    async fn oauth_start(&self, provider: &str, redirect_uri: &str) -> Result<OAuthStart> {
        self.oauth_begin(provider, redirect_uri).await
    }

    async fn oauth_callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        ctx: &RequestContext,
    ) -> Result<LoginOutcome> {
        self.oauth_finish(provider, code, state, ctx).await
    }

    async fn oauth_link(
        &self,
        principal: &Principal,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<()> {
        let account = self.own_account(principal).await?;
        self.oauth_link_to(&account, provider, code, state).await
    }

    async fn passkey_register_start(&self, principal: &Principal) -> Result<PasskeyChallenge> {
        self.begin_passkey_registration(principal).await
    }

    async fn passkey_register_finish(
        &self,
        principal: &Principal,
        ceremony: &str,
        credential: &serde_json::Value,
        name: &str,
    ) -> Result<PasskeyInfo> {
        self.finish_passkey_registration(principal, ceremony, credential, name)
            .await
    }

    async fn passkey_login_start(
        &self,
        username: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PasskeyChallenge> {
        self.begin_passkey_login(username, ctx).await
    }

    async fn passkey_login_finish(
        &self,
        ceremony: &str,
        credential: &serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        self.finish_passkey_login(ceremony, credential, ctx).await
    }

    async fn passkeys(&self, principal: &Principal) -> Result<Vec<PasskeyInfo>> {
        self.list_passkeys(principal).await
    }

    async fn rename_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyInfo> {
        self.rename_own_passkey(principal, id, name).await
    }

    async fn delete_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        end_sessions: bool,
    ) -> Result<u64> {
        self.delete_own_passkey(principal, id, end_sessions).await
    }
}

impl IdentityService {
    /// Someone tried to register with an email that has an account: tell its owner (with
    /// a password reset link, in case they forgot), as a reset request would.
    async fn notify_existing_owner(&self, email: &str) -> Result<()> {
        if let Some(owner) = self.store.account_by_email(email).await? {
            let token = self
                .verification_token(&owner, TokenPurpose::PasswordReset)
                .await?;
            self.send_mail(
                &owner.email,
                "account_exists",
                "You already have an account",
                token,
            )
            .await;
        }
        Ok(())
    }

    async fn set_password_ending_sessions(
        &self,
        account: &AccountRecord,
        new: &str,
        keep: Option<SessionId>,
        reason: &str,
    ) -> Result<()> {
        let hash = self.passwords.hash(new).await?;
        let ended: Vec<SessionId> = self
            .store
            .active_sessions(account.id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .filter(|id| Some(*id) != keep)
            .collect();
        let mut outbox: Vec<_> = ended
            .iter()
            .map(|id| self.revoked_event(account.id, *id, reason))
            .collect();
        outbox.push(self.event(
            "password.changed",
            account.id,
            &events::PasswordChanged {
                user_id: account.id.to_string(),
            },
        ));
        self.store
            .set_password(account.id, &hash, &ended, self.now(), &outbox)
            .await?;
        self.wake_relay();
        self.announce_revoked(&ended).await;
        Ok(())
    }
}
