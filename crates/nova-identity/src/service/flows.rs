//! The [`IdentityApi`] flows of [`IdentityService`].

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId};
use nova_proto::nova::identity::v1 as events;

use super::{IdentityService, bad_credentials, hash_secret, new_secret};
use crate::api::IdentityApi;
use crate::limits::{has_budget, rate_limited, spend, take};
use crate::model::{
    Account, LoginOutcome, LoginRequest, OAuthStart, RegisterRequest, RequestContext, SessionInfo,
    TokenPair, TotpEnrollment,
};
use crate::store::{AccountRecord, OneTimeToken, TokenPurpose};
use crate::validation;
use crate::{Totp, TotpSecret, check_policy, generate_recovery_codes, verify_recovery_code};

/// Longest password accepted before any work (the policy says 128 characters).
const MAX_PASSWORD_CHARS: usize = 128;
/// Longest login identifier (an email).
const MAX_IDENTIFIER_CHARS: usize = validation::MAX_EMAIL_LEN;

fn ip_key(prefix: &str, ctx: &RequestContext) -> String {
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

    /// Checks a TOTP code (recording its step) or a recovery code (consuming it).
    async fn check_second_factor(&self, account: &AccountRecord, code: &str) -> Result<()> {
        let code = code.trim();
        validation::required("code", code, 64)?;
        let sealed = account
            .totp_secret_enc
            .as_deref()
            .ok_or_else(bad_credentials)?;
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
        self.store
            .create_account(&account, &verification, &[event])
            .await?;
        self.wake_relay();
        self.send_mail(&account.email, "verify_email", "Confirm your email", token)
            .await;
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
        let (ip_bucket, account_bucket) = (
            ip_key("login", ctx),
            format!("login:acct:{}", identifier.to_lowercase()),
        );
        let limits = &self.config.limits;
        let buckets = [
            (ip_bucket.as_str(), &limits.failures_per_ip),
            (account_bucket.as_str(), &limits.failures_per_account),
        ];
        if !has_budget(self.limiter.as_ref(), &buckets).await? {
            return Err(rate_limited());
        }
        let account = if identifier.contains('@') {
            self.store.account_by_email(identifier).await?
        } else {
            self.store.account_by_username(identifier).await?
        };
        // Same work and same answer whether the account exists or the password is wrong.
        let verified = match account.as_ref().and_then(|a| a.password_hash.as_deref()) {
            Some(hash) => self.passwords.verify(&req.password, hash).await?,
            None => {
                self.passwords.dummy_verify(&req.password).await;
                false
            }
        };
        let account = match (account, verified) {
            (Some(account), true) => account,
            _ => {
                spend(self.limiter.as_ref(), &buckets).await?;
                return Err(bad_credentials());
            }
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
            let (challenge, hash) = new_secret();
            let expires_at = self.now() + self.config.challenge_ttl;
            self.store
                .create_challenge(&hash, account.id, expires_at)
                .await?;
            return Ok(LoginOutcome::TwoFactorRequired {
                challenge,
                expires_at,
            });
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
        let ids: Vec<SessionId> = self
            .store
            .active_sessions(principal.user_id)
            .await?
            .iter()
            .map(|s| s.id)
            .collect();
        self.end_sessions(principal.user_id, &ids, "logout_everywhere")
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
        let bucket = format!("login:acct:{}", account.email.to_lowercase());
        let buckets = [(bucket.as_str(), &self.config.limits.failures_per_account)];
        if !has_budget(self.limiter.as_ref(), &buckets).await? {
            return Err(rate_limited());
        }
        let ok = match account.password_hash.as_deref() {
            Some(hash) => self.passwords.verify(current, hash).await?,
            None => false,
        };
        if !ok {
            spend(self.limiter.as_ref(), &buckets).await?;
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
            .map_err(|_| Error::invalid("code", "is not correct"))?;
        self.store
            .set_totp_secret(account.id, None, self.now())
            .await
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
    ) -> Result<TokenPair> {
        self.oauth_finish(provider, code, state, ctx).await
    }
}

impl IdentityService {
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
        Ok(())
    }
}
