//! [`IdentityService`]: the identity rules, over the [`IdentityStore`] port.

mod flows;
mod passkeys;

pub use passkeys::{MAX_PASSKEYS, PasskeyConfig};

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, SubsecRound};
use nova_core::{
    Error, ErrorKind, Principal, Result, SessionId, SharedClock, SystemClock, Timestamp, UserId,
};
use nova_events::{EventEnvelope, RelayWaker};
use nova_kv::{InProcessRateLimiter, RateLimiter};
use prost::Message;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::limits::LoginLimits;
use crate::mail::{LogMailer, Mail, Mailer};
use crate::model::{Account, RequestContext, TokenPair};
use crate::oauth::OAuthProviders;
use crate::secrets::SecretBox;
use crate::store::{AccountRecord, IdentityStore, PasskeyUse, RefreshRecord, SessionRecord};
use crate::{CachedVerifier, KeySet, Passwords, TokenConfig, TokenIssuer, TokenVerifier};

/// Lifetimes and grace periods.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Access token issuer and audience.
    pub tokens: TokenConfig,
    /// Refresh token lifetime (30 days).
    pub refresh_ttl: Duration,
    /// How long the immediate predecessor of the current refresh token is still accepted
    /// (a client retrying a refresh whose answer it lost). Older tokens never are.
    pub refresh_grace: Duration,
    /// Email verification link lifetime.
    pub verify_email_ttl: Duration,
    /// Password reset link lifetime.
    pub password_reset_ttl: Duration,
    /// Two-factor challenge lifetime.
    pub challenge_ttl: Duration,
    /// Wrong codes allowed per challenge.
    pub challenge_attempts: i32,
    /// Second-factor attempts per account, across challenges, `disable_totp` and
    /// recovery codes, before the factor locks (a success starts the count again).
    pub second_factor_failures: i32,
    /// How long the factor stays locked.
    pub second_factor_lock: Duration,
    /// How recently a session must have been used for its device to skip the per-account
    /// login budget.
    pub recent_session: Duration,
    /// Brute-force budgets.
    pub limits: LoginLimits,
    /// `NOVA_SERVICE_SECRET`: the deployment secret service credentials derive from;
    /// `None` mints no service tokens.
    pub service_secret: Option<String>,
    /// `NOVA_ADMIN_USERNAMES`: accounts that are admins whatever their stored roles (how
    /// an operator makes the first admin), lower-cased.
    pub admin_usernames: Vec<String>,
    /// `WEBAUTHN_RP_ID` / `WEBAUTHN_ORIGINS`: the passkey relying party.
    pub passkeys: PasskeyConfig,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            tokens: TokenConfig::new("nova", "nova"),
            refresh_ttl: Duration::days(30),
            refresh_grace: Duration::seconds(10),
            verify_email_ttl: Duration::hours(24),
            password_reset_ttl: Duration::hours(1),
            challenge_ttl: Duration::minutes(5),
            challenge_attempts: 5,
            // Keycloak and GitHub lock the factor after about ten failures.
            second_factor_failures: 10,
            second_factor_lock: Duration::hours(1),
            recent_session: Duration::days(30),
            limits: LoginLimits::default(),
            service_secret: None,
            admin_usernames: Vec::new(),
            passkeys: PasskeyConfig::default(),
        }
    }
}

/// The identity domain service. Build it with [`IdentityService::builder`].
pub struct IdentityService {
    pub(crate) store: Arc<dyn IdentityStore>,
    pub(crate) clock: SharedClock,
    pub(crate) passwords: Passwords,
    pub(crate) keys: Arc<KeySet>,
    pub(crate) issuer: TokenIssuer,
    pub(crate) verifier: CachedVerifier,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) secrets: SecretBox,
    pub(crate) oauth: OAuthProviders,
    pub(crate) config: IdentityConfig,
    pub(crate) relay: Option<RelayWaker>,
    pub(crate) revocations: Option<Arc<dyn nova_auth::Revocations>>,
}

/// Builder for [`IdentityService`].
pub struct IdentityServiceBuilder {
    store: Arc<dyn IdentityStore>,
    keys: Arc<KeySet>,
    clock: SharedClock,
    passwords: Passwords,
    limiter: Option<Arc<dyn RateLimiter>>,
    mailer: Arc<dyn Mailer>,
    secrets: Option<SecretBox>,
    oauth: OAuthProviders,
    config: IdentityConfig,
    relay: Option<RelayWaker>,
    revocations: Option<Arc<dyn nova_auth::Revocations>>,
}

impl IdentityService {
    /// Starts a builder over `store`, signing with `keys`.
    pub fn builder(store: Arc<dyn IdentityStore>, keys: Arc<KeySet>) -> IdentityServiceBuilder {
        IdentityServiceBuilder {
            store,
            keys,
            clock: SystemClock::shared(),
            passwords: Passwords::owasp().with_limits(crate::HashLimits::from_memory(
                crate::password::OWASP_M_COST_KIB,
            )),
            limiter: None,
            mailer: Arc::new(LogMailer),
            secrets: None,
            oauth: OAuthProviders::default(),
            config: IdentityConfig::default(),
            relay: None,
            revocations: None,
        }
    }

    /// The public keys as a JWKS document.
    pub fn jwks_json(&self) -> serde_json::Value {
        self.keys.jwks()
    }
}

impl IdentityServiceBuilder {
    /// The clock (tests use a `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
    /// Password hashing parameters and concurrency limit (default: OWASP parameters,
    /// [`HashLimits::from_memory`](crate::HashLimits::from_memory)).
    pub fn passwords(mut self, passwords: Passwords) -> Self {
        self.passwords = passwords;
        self
    }
    /// The rate limiter (nova-kv; in-process by default).
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }
    /// Where verification and reset emails go.
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }
    /// Encryption of TOTP secrets and provider tokens.
    pub fn secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = Some(secrets);
        self
    }
    /// OpenID Connect providers.
    pub fn oauth(mut self, providers: OAuthProviders) -> Self {
        self.oauth = providers;
        self
    }
    /// Lifetimes and limits.
    pub fn config(mut self, config: IdentityConfig) -> Self {
        self.config = config;
        self
    }
    /// Wakes the outbox relay after each commit that wrote events.
    pub fn relay(mut self, waker: RelayWaker) -> Self {
        self.relay = Some(waker);
        self
    }

    /// Tells `revocations` (the set the other services' verifiers read) about ended
    /// sessions as soon as they are committed, so the very next call anywhere is
    /// refused; the `session.revoked` events reach the same set later regardless.
    pub fn revocations(mut self, revocations: Arc<dyn nova_auth::Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// The service.
    pub fn build(self) -> IdentityService {
        let issuer = TokenIssuer::new(
            self.keys.clone(),
            self.config.tokens.clone(),
            self.clock.clone(),
        );
        let verifier = CachedVerifier::new(TokenVerifier::for_key_set(
            &*self.keys,
            self.config.tokens.clone(),
            self.clock.clone(),
        ));
        let limiter = self
            .limiter
            .unwrap_or_else(|| Arc::new(InProcessRateLimiter::new(self.clock.clone())));
        IdentityService {
            store: self.store,
            clock: self.clock,
            passwords: self.passwords,
            keys: self.keys,
            issuer,
            verifier,
            limiter,
            mailer: self.mailer,
            secrets: self
                .secrets
                .unwrap_or_else(|| SecretBox::generate("ephemeral")),
            oauth: self.oauth,
            config: self.config,
            relay: self.relay,
            revocations: self.revocations,
        }
    }
}

/// The signing keys kept in the store (the embedded default): the newest signs, all
/// verify. A first start generates one; replicas starting together converge on the
/// stored keys because a kid is only inserted once.
///
/// Private keys are stored sealed under the key-encryption key (`secrets`, like TOTP
/// secrets and provider tokens), so a copy of the database alone cannot mint tokens. A
/// row still holding a plain PEM (written before keys were sealed) is sealed in place
/// on load.
pub async fn keys_from_store(
    store: &dyn IdentityStore,
    clock: &SharedClock,
    secrets: &SecretBox,
) -> Result<KeySet> {
    let mut stored = store.signing_keys().await?;
    if stored.is_empty() {
        let kid = format!("k{}", clock.now().format("%Y%m%d%H%M%S"));
        let generated = tokio::task::spawn_blocking(move || {
            crate::SigningKey::generate(kid.clone()).and_then(|k| Ok((kid, k.to_pkcs8_pem()?)))
        })
        .await
        .map_err(Error::internal)??;
        let sealed = secrets.encrypt(&generated.1)?;
        store
            .insert_signing_key(&generated.0, &sealed, clock.now())
            .await?;
        stored = store.signing_keys().await?;
    }
    let mut keys = Vec::with_capacity(stored.len());
    for (kid, value) in &stored {
        let pem = if is_plain_pem(value) {
            store
                .reseal_signing_key(kid, value, &secrets.encrypt(value)?)
                .await?;
            value.clone()
        } else {
            secrets.decrypt(value).map_err(|e| {
                Error::internal(format!(
                    "signing key {kid} cannot be decrypted with IDENTITY_ENCRYPTION_KEYS: {}",
                    e.message()
                ))
            })?
        };
        keys.push(crate::SigningKey::from_pem(kid.clone(), &pem)?);
    }
    let active = keys
        .pop()
        .ok_or_else(|| Error::internal("no signing key could be loaded"))?;
    Ok(keys.into_iter().fold(KeySet::new(active), |set, old| {
        set.with_verification_key(old.verifying_key().clone())
    }))
}

/// Whether a stored signing key is a plain PEM (rows from before keys were sealed).
fn is_plain_pem(stored: &str) -> bool {
    stored.trim_start().starts_with("-----BEGIN")
}

/// A random secret for a client (32 bytes, base64url) and the hash we keep.
pub(crate) fn new_secret() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// SHA-256 of a client secret: tokens are long random values, so a fast hash is enough
/// and a stolen database holds nothing usable.
pub(crate) fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The one answer to every failed credential check.
pub(crate) fn bad_credentials() -> Error {
    Error::new(ErrorKind::Unauthenticated, "invalid credentials")
}

impl IdentityService {
    /// A service token for `service` if `credential` is its credential under the
    /// configured service secret. Every refusal looks the same.
    pub(crate) fn mint_service_token(
        &self,
        service: &str,
        credential: &str,
    ) -> Result<crate::IssuedToken> {
        nova_auth::service::check_service_name(service)?;
        let refused = || Error::new(ErrorKind::Unauthenticated, "bad service credential");
        let secret = self.config.service_secret.as_deref().ok_or_else(refused)?;
        if !nova_auth::service::credential_matches(secret, service, credential) {
            return Err(refused());
        }
        self.issuer.issue_for(
            &Principal::service(service),
            nova_auth::service::SERVICE_TOKEN_TTL,
        )
    }
}

/// The staff role that moderates (trust & safety's moderation routes).
pub const ROLE_MODERATOR: &str = "moderator";
/// The staff role that moderates, decides escalations and grants roles.
pub const ROLE_ADMIN: &str = "admin";

impl IdentityService {
    /// Now, at the precision both databases keep.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    pub(crate) fn event(
        &self,
        event_type: &str,
        aggregate: impl ToString,
        payload: &impl Message,
    ) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            aggregate.to_string(),
            self.now(),
            payload.encode_to_vec(),
        )
    }

    pub(crate) fn wake_relay(&self) {
        if let Some(relay) = &self.relay {
            relay.wake();
        }
    }

    pub(crate) async fn send_mail(
        &self,
        to: &str,
        kind: &'static str,
        subject: &str,
        token: String,
    ) {
        let mail = Mail {
            to: to.to_owned(),
            kind,
            subject: subject.to_owned(),
            token,
        };
        if let Err(e) = self.mailer.send(mail).await {
            tracing::warn!(kind, error = %e, "sending email failed; the user can ask again");
        }
    }

    pub(crate) fn account_view(record: &AccountRecord) -> Account {
        Account {
            id: record.id,
            email: record.email.clone(),
            username: record.username.clone(),
            email_verified: record.email_verified_at.is_some(),
            two_factor_enabled: record.totp_enabled_at.is_some(),
            created_at: record.created_at,
        }
    }

    /// The caller's account (a deleted account is `Unauthenticated`).
    pub(crate) async fn own_account(&self, principal: &Principal) -> Result<AccountRecord> {
        self.store
            .account_by_id(principal.user_id)
            .await?
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))
    }

    /// Opens a session: refresh token family + access token, `session.created` event.
    /// A suspended account gets none.
    pub(crate) async fn open_session(
        &self,
        user: UserId,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        self.open_session_with(user, ctx, None)
            .await?
            .ok_or_else(|| Error::internal("a session without a passkey is always opened"))
    }

    /// Opens a session, for a passkey sign-in together with the passkey's new counter:
    /// `None` (nothing written) when that counter no longer moves forward.
    pub(crate) async fn open_session_with(
        &self,
        user: UserId,
        ctx: &RequestContext,
        passkey: Option<&PasskeyUse>,
    ) -> Result<Option<TokenPair>> {
        let now = self.now();
        if self.store.suspended(user, now).await? {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "account: this account is suspended",
            ));
        }
        let session = SessionRecord {
            id: SessionId::new(),
            user_id: user,
            user_agent: ctx.user_agent.clone(),
            ip: ctx.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
        };
        let (refresh, record) = self.new_refresh(session.id, now);
        let event = self.event(
            "session.created",
            session.id,
            &nova_proto::nova::identity::v1::SessionCreated {
                session_id: session.id.to_string(),
                user_id: user.to_string(),
                user_agent: session.user_agent.clone(),
            },
        );
        match passkey {
            Some(used) => {
                if !self
                    .store
                    .create_passkey_session(&session, &record, used, &[event])
                    .await?
                {
                    return Ok(None);
                }
            }
            None => {
                self.store
                    .create_session(&session, &record, &[event])
                    .await?
            }
        }
        self.wake_relay();
        self.token_pair(user, session.id, refresh, record.expires_at)
            .await
            .map(Some)
    }

    pub(crate) fn new_refresh(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> (String, RefreshRecord) {
        let (token, hash) = new_secret();
        let record = RefreshRecord {
            token_hash: hash,
            session_id: session,
            issued_at: now,
            expires_at: now + self.config.refresh_ttl,
            rotated_at: None,
            replaced_by: None,
        };
        (token, record)
    }

    /// The staff roles of `user`: stored ones, and `admin` when the operator lists its
    /// username in `NOVA_ADMIN_USERNAMES`.
    pub(crate) async fn roles(&self, user: UserId) -> Result<Vec<String>> {
        let mut roles = self.store.roles(user).await?;
        if !self.config.admin_usernames.is_empty()
            && !roles.iter().any(|r| r == ROLE_ADMIN)
            && let Some(account) = self.store.account_by_id(user).await?
            && self
                .config
                .admin_usernames
                .contains(&account.username.to_lowercase())
        {
            roles.push(ROLE_ADMIN.to_owned());
        }
        Ok(roles)
    }

    pub(crate) async fn token_pair(
        &self,
        user: UserId,
        session: SessionId,
        refresh_token: String,
        refresh_expires_at: Timestamp,
    ) -> Result<TokenPair> {
        let mut principal = Principal::user(user, session);
        // Staff roles travel as scopes; a change shows in the next access token.
        principal.scopes.extend(self.roles(user).await?);
        let access = self.issuer.issue(&principal)?;
        Ok(TokenPair {
            access_token: access.token,
            access_expires_at: access.expires_at,
            refresh_token,
            refresh_expires_at,
            token_type: "Bearer".to_owned(),
            session_id: session,
            user_id: user,
        })
    }

    /// Suspends `user` for trust & safety's `action` (until `until`, or until lifted): no
    /// new logins, and every session ends now. Idempotent.
    pub async fn suspend_account(
        &self,
        user: UserId,
        action: &str,
        until: Option<Timestamp>,
    ) -> Result<u64> {
        self.store.set_suspension(user, action, until).await?;
        self.end_all_sessions(user, "account_suspended").await
    }

    /// Lifts the suspension of `user` by `action` (reversed or appealed); whether it was
    /// in force. Idempotent.
    pub async fn lift_suspension(&self, user: UserId, action: &str) -> Result<bool> {
        self.store.lift_suspension(user, action).await
    }

    /// Ends every session of `user` (its account was deleted, in the users domain), each
    /// with its `session.revoked` event; how many ended. Idempotent.
    pub async fn end_account_sessions(&self, user: UserId) -> Result<u64> {
        self.end_all_sessions(user, "account_deleted").await
    }

    /// Ends every active session of `user` for `reason`; how many ended.
    pub(crate) async fn end_all_sessions(&self, user: UserId, reason: &str) -> Result<u64> {
        let ids: Vec<SessionId> = self
            .store
            .active_sessions(user)
            .await?
            .iter()
            .map(|s| s.id)
            .collect();
        self.end_sessions(user, &ids, reason).await
    }

    /// Ends sessions with one `session.revoked` event each.
    pub(crate) async fn end_sessions(
        &self,
        user: UserId,
        ids: &[SessionId],
        reason: &str,
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let events: Vec<_> = ids
            .iter()
            .map(|id| self.revoked_event(user, *id, reason))
            .collect();
        let ended = self
            .store
            .revoke_sessions(ids, reason, self.now(), &events)
            .await?;
        self.wake_relay();
        self.announce_revoked(ids).await;
        Ok(ended)
    }

    /// Tells the shared revocation set at once (the events follow through the relay; a
    /// failure here is only logged, the events still end the sessions everywhere).
    pub(crate) async fn announce_revoked(&self, ids: &[SessionId]) {
        let Some(revocations) = &self.revocations else {
            return;
        };
        for id in ids {
            if let Err(error) = revocations.revoke(*id).await {
                tracing::warn!(%error, "revocation not shared at once; the event will carry it");
            }
        }
    }

    pub(crate) fn revoked_event(
        &self,
        user: UserId,
        session: SessionId,
        reason: &str,
    ) -> EventEnvelope {
        self.event(
            nova_events::types::SESSION_REVOKED,
            session,
            &nova_proto::nova::identity::v1::SessionRevoked {
                session_id: session.to_string(),
                user_id: user.to_string(),
                reason: reason.to_owned(),
            },
        )
    }
}
