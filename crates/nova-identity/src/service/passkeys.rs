//! Passkeys (WebAuthn) on [`IdentityService`]: registration for a signed-in user,
//! sign-in with a name or without one (discoverable credentials), and management.
//!
//! webauthn-rs does every WebAuthn check (client data, origin, RP id hash, challenge,
//! signature, user verification, sign count); this module keeps its ceremony state in
//! the store (single use, [`PasskeyConfig::ceremony_ttl`]), applies the login budgets and
//! opens sessions exactly as a password login does. A passkey is both factors: no TOTP
//! step follows it.

use std::sync::Arc;

use chrono::Duration;
use nova_core::{Error, ErrorKind, Principal, Result, SessionId, UserId};
use serde_json::Value;
use url::Url;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn,
    WebauthnBuilder, WebauthnError,
};

use super::{IdentityService, bad_credentials, hash_secret, new_secret};
use crate::limits::take;
use crate::model::{PasskeyChallenge, PasskeyId, PasskeyInfo, RequestContext, TokenPair};
use crate::store::{CeremonyKind, CeremonyRecord, PasskeyRecord, PasskeyRemoval, PasskeyUse};
use crate::validation;

/// Most passkeys one account may register.
pub const MAX_PASSKEYS: usize = 20;
/// Longest passkey name.
const MAX_NAME_CHARS: usize = 64;
/// Longest ceremony handle accepted.
const MAX_CEREMONY_CHARS: usize = 128;
/// Transports a client may report at registration (anything else is dropped).
const TRANSPORTS: [&str; 6] = ["usb", "nfc", "ble", "internal", "hybrid", "smart-card"];

/// The relying party: `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS`. The default is local
/// development (`localhost`, `http://localhost:8000`); production must configure both.
#[derive(Debug, Clone)]
pub struct PasskeyConfig {
    rp_id: String,
    origins: Vec<Url>,
    webauthn: Arc<Webauthn>,
    /// How long a registration or sign-in ceremony stays open (5 minutes).
    pub ceremony_ttl: Duration,
}

impl PasskeyConfig {
    /// The development default's relying party id.
    pub const DEV_RP_ID: &'static str = "localhost";
    /// The development default's origin (the gateway / `nova` port).
    pub const DEV_ORIGIN: &'static str = "http://localhost:8000";

    /// A relying party `rp_id` (a domain, e.g. `example.com`) accepting assertions from
    /// `origins` (e.g. `https://app.example.com`): each must be an `http(s)` origin on
    /// `rp_id` or a subdomain of it. Errors name `WEBAUTHN_RP_ID` or `WEBAUTHN_ORIGINS`.
    pub fn new(rp_id: &str, origins: &[String]) -> Result<Self> {
        let rp_id = rp_id.trim().to_lowercase();
        if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) || url::Host::parse(&rp_id).is_err()
        {
            return Err(Error::invalid(
                "WEBAUTHN_RP_ID",
                "must be a domain name such as example.com",
            ));
        }
        let mut parsed = Vec::with_capacity(origins.len());
        for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            let url = Url::parse(origin).map_err(|_| {
                Error::invalid(
                    "WEBAUTHN_ORIGINS",
                    format!("{origin} is not a URL such as https://app.example.com"),
                )
            })?;
            let on_rp = url
                .domain()
                .is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")));
            if !matches!(url.scheme(), "http" | "https") || !on_rp {
                return Err(Error::invalid(
                    "WEBAUTHN_ORIGINS",
                    format!("{origin} must be an http(s) origin on {rp_id} or a subdomain of it"),
                ));
            }
            parsed.push(url);
        }
        let Some(first) = parsed.first() else {
            return Err(Error::invalid(
                "WEBAUTHN_ORIGINS",
                "needs at least one origin, such as https://app.example.com",
            ));
        };
        let ceremony_ttl = Duration::minutes(5);
        let builder = WebauthnBuilder::new(&rp_id, first)
            .map_err(|e| Error::invalid("WEBAUTHN_ORIGINS", e))?
            .rp_name("Nova")
            .timeout(ceremony_ttl.to_std().unwrap_or_default());
        let webauthn = parsed
            .iter()
            .skip(1)
            .fold(builder, |b, origin| b.append_allowed_origin(origin))
            .build()
            .map_err(|e| Error::invalid("WEBAUTHN_RP_ID", e))?;
        Ok(Self {
            rp_id,
            origins: parsed,
            webauthn: Arc::new(webauthn),
            ceremony_ttl,
        })
    }

    /// The relying party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The accepted origins.
    pub fn origins(&self) -> &[Url] {
        &self.origins
    }
}

impl Default for PasskeyConfig {
    fn default() -> Self {
        // The constants are a valid pair; a failure here would be a bug caught by tests.
        Self::new(Self::DEV_RP_ID, &[Self::DEV_ORIGIN.to_owned()])
            .unwrap_or_else(|e| unreachable!("the development passkey configuration is valid: {e}"))
    }
}

/// A passkey name: trimmed, 1–64 characters, no control characters.
fn passkey_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    validation::required("name", name, MAX_NAME_CHARS)?;
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn info(record: &PasskeyRecord) -> PasskeyInfo {
    PasskeyInfo {
        id: record.id,
        name: record.name.clone(),
        sign_count: record.sign_count,
        backup_eligible: record.backup_eligible,
        backed_up: record.backed_up,
        transports: record
            .transports
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        created_at: record.created_at,
        last_used_at: record.last_used_at,
        clone_warning_at: record.clone_warning_at,
    }
}

/// The transports a client reported with its registration (known ones only).
fn transports(credential: &Value) -> String {
    let reported = credential["response"]["transports"].as_array();
    let mut out: Vec<&str> = reported
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| TRANSPORTS.contains(t))
        .collect();
    out.sort_unstable();
    out.dedup();
    out.join(" ")
}

/// The counter and backup flags webauthn-rs keeps inside a serialised passkey.
fn passkey_state(passkey: &Passkey) -> Result<(String, i64, bool, bool)> {
    let value = serde_json::to_value(passkey).map_err(Error::internal)?;
    let cred = &value["cred"];
    let counter = cred["counter"].as_i64().unwrap_or_default();
    let eligible = cred["backup_eligible"].as_bool().unwrap_or_default();
    let state = cred["backup_state"].as_bool().unwrap_or_default();
    let json = serde_json::to_string(passkey).map_err(Error::internal)?;
    Ok((json, counter, eligible, state))
}

/// Why an assertion was refused (all answer the client alike).
enum Refusal {
    /// The signature counter did not move forward: possibly a cloned authenticator.
    Clone(PasskeyId),
    /// Anything else.
    Invalid,
}

impl IdentityService {
    fn webauthn(&self) -> &Webauthn {
        &self.config.passkeys.webauthn
    }

    async fn save_ceremony(
        &self,
        kind: CeremonyKind,
        user: Option<UserId>,
        session: Option<SessionId>,
        state: String,
        options: Value,
    ) -> Result<PasskeyChallenge> {
        let (ceremony, hash) = new_secret();
        let now = self.now();
        let expires_at = now + self.config.passkeys.ceremony_ttl;
        self.store
            .save_ceremony(&CeremonyRecord {
                ceremony_hash: hash,
                kind: kind.as_str().to_owned(),
                user_id: user,
                session_id: session,
                state,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            options,
            expires_at,
        })
    }

    /// Starts registering a passkey for the caller (bound to the caller's session).
    pub(crate) async fn begin_passkey_registration(
        &self,
        principal: &Principal,
    ) -> Result<PasskeyChallenge> {
        let account = self.own_account(principal).await?;
        let existing = self.store.passkeys(account.id).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("passkeys: at most {MAX_PASSKEYS} per account; delete one first"),
            ));
        }
        let exclude: Vec<CredentialID> = existing
            .iter()
            .map(|p| CredentialID::from(p.credential_id.clone()))
            .collect();
        let (options, state) = self
            .webauthn()
            .start_passkey_registration(
                account.id.as_uuid(),
                &account.username,
                &account.username,
                Some(exclude),
            )
            .map_err(Error::internal)?;
        let state = serde_json::to_string(&state).map_err(Error::internal)?;
        let mut options = serde_json::to_value(&options).map_err(Error::internal)?;
        // Ask for a discoverable credential where the authenticator can keep one, so the
        // passkey also signs in without a username. `preferred`, never `required`:
        // security keys with little storage still register (webauthn-rs asks for
        // `discouraged`; what the authenticator did is not checked either way).
        if let Some(selection) = options["publicKey"]["authenticatorSelection"].as_object_mut() {
            selection.insert("residentKey".into(), Value::from("preferred"));
        }
        self.save_ceremony(
            CeremonyKind::Register,
            Some(account.id),
            Some(principal.session_id),
            state,
            options,
        )
        .await
    }

    /// Finishes a registration started by the same session: stores the passkey.
    pub(crate) async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        ceremony: &str,
        credential: &Value,
        name: &str,
    ) -> Result<PasskeyInfo> {
        validation::required("ceremony", ceremony, MAX_CEREMONY_CHARS)?;
        let name = passkey_name(name)?;
        let response: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| {
                Error::invalid("credential", format!("is not a WebAuthn attestation: {e}"))
            })?;
        let account = self.own_account(principal).await?;
        let now = self.now();
        let started = self
            .store
            .take_ceremony(&hash_secret(ceremony), now)
            .await?
            .filter(|c| {
                CeremonyKind::parse(&c.kind) == Some(CeremonyKind::Register)
                    && c.user_id == Some(account.id)
                    && c.session_id == Some(principal.session_id)
            })
            .ok_or_else(|| Error::invalid("ceremony", "is unknown, used or expired"))?;
        let state: PasskeyRegistration =
            serde_json::from_str(&started.state).map_err(Error::internal)?;
        let passkey = self
            .webauthn()
            .finish_passkey_registration(&response, &state)
            .map_err(|e| Error::invalid("credential", format!("was not accepted: {e}")))?;
        let (json, sign_count, backup_eligible, backed_up) = passkey_state(&passkey)?;
        let record = PasskeyRecord {
            id: PasskeyId::new(),
            credential_id: passkey.cred_id().as_slice().to_vec(),
            user_id: account.id,
            name,
            passkey: json,
            sign_count,
            backup_eligible,
            backed_up,
            transports: transports(credential),
            created_session_id: Some(principal.session_id),
            created_at: now,
            last_used_at: None,
            clone_warning_at: None,
        };
        self.store.insert_passkey(&record).await?;
        Ok(info(&record))
    }

    /// Starts a sign-in: with `username` (or email), the account's passkeys are offered;
    /// without one, or for a name with no passkeys (unknown names answer alike), any
    /// discoverable passkey of this relying party may answer.
    pub(crate) async fn begin_passkey_login(
        &self,
        username: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PasskeyChallenge> {
        let username = username.map(str::trim).filter(|u| !u.is_empty());
        if let Some(name) = username {
            validation::required("username", name, validation::MAX_EMAIL_LEN)?;
        }
        // Starting costs a database row: budgeted per address like login attempts.
        take(
            self.limiter.as_ref(),
            &super::flows::ip_key("passkey_start", ctx),
            &self.config.limits.failures_per_ip,
        )
        .await?;
        let account = match username {
            Some(name) if name.contains('@') => self.store.account_by_email(name).await?,
            Some(name) => self.store.account_by_username(name).await?,
            None => None,
        };
        let keys: Vec<Passkey> = match &account {
            Some(a) => self
                .store
                .passkeys(a.id)
                .await?
                .iter()
                .filter_map(|p| serde_json::from_str(&p.passkey).ok())
                .collect(),
            None => Vec::new(),
        };
        match account.filter(|_| !keys.is_empty()) {
            Some(account) => {
                let (options, state) = self
                    .webauthn()
                    .start_passkey_authentication(&keys)
                    .map_err(Error::internal)?;
                let state = serde_json::to_string(&state).map_err(Error::internal)?;
                let options = serde_json::to_value(&options).map_err(Error::internal)?;
                self.save_ceremony(CeremonyKind::Login, Some(account.id), None, state, options)
                    .await
            }
            None => {
                let (options, state) = self
                    .webauthn()
                    .start_discoverable_authentication()
                    .map_err(Error::internal)?;
                let state = serde_json::to_string(&state).map_err(Error::internal)?;
                let options = serde_json::to_value(&options).map_err(Error::internal)?;
                self.save_ceremony(CeremonyKind::Discoverable, None, None, state, options)
                    .await
            }
        }
    }

    /// Finishes a sign-in: verifies the assertion and opens a session like a password
    /// login. Every failure is the same `Unauthenticated`; it spends the per-address
    /// budget and, when the account is known, the per-account one.
    pub(crate) async fn finish_passkey_login(
        &self,
        ceremony: &str,
        credential: &Value,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        validation::required("ceremony", ceremony, MAX_CEREMONY_CHARS)?;
        let response: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|e| {
                Error::invalid("credential", format!("is not a WebAuthn assertion: {e}"))
            })?;
        // The same per-address budget as password attempts, taken before any work.
        take(
            self.limiter.as_ref(),
            &super::flows::ip_key("login", ctx),
            &self.config.limits.failures_per_ip,
        )
        .await?;
        let now = self.now();
        let Some(started) = self
            .store
            .take_ceremony(&hash_secret(ceremony), now)
            .await?
        else {
            // Unknown, expired or already used (a replayed assertion).
            return Err(bad_credentials());
        };
        let record = self
            .store
            .passkey_by_credential(response.raw_id.as_slice())
            .await?;
        let account = started.user_id.or(record.as_ref().map(|r| r.user_id));
        let verified = match &record {
            Some(record) => self.verify_assertion(&started, record, &response),
            None => Err(Refusal::Invalid),
        };
        let refused = match verified {
            Ok(used) => {
                let Some(record) = &record else {
                    return Err(bad_credentials());
                };
                match self
                    .open_session_with(record.user_id, ctx, Some(&used))
                    .await?
                {
                    Some(pair) => return Ok(pair),
                    // The counter moved on concurrently: this assertion is not newer.
                    None => Refusal::Clone(record.id),
                }
            }
            Err(refusal) => refusal,
        };
        if let Refusal::Clone(id) = refused {
            tracing::warn!(passkey = %id, "passkey sign count did not move forward: possible cloned authenticator, refused");
            self.store.record_clone_warning(id, now).await?;
        }
        if let Some(user) = account {
            // Counted, not checked: a valid passkey is not held back by the account
            // budget (like a login bringing its second factor), failures still spend it.
            self.limiter
                .check(
                    &format!("login:acct:{user}"),
                    &self.config.limits.failures_per_account,
                )
                .await?;
        }
        Err(bad_credentials())
    }

    /// webauthn-rs's verdict on an assertion for `started`, made with `record`.
    fn verify_assertion(
        &self,
        started: &CeremonyRecord,
        record: &PasskeyRecord,
        response: &PublicKeyCredential,
    ) -> std::result::Result<PasskeyUse, Refusal> {
        let mut passkey: Passkey =
            serde_json::from_str(&record.passkey).map_err(|_| Refusal::Invalid)?;
        let verdict = match CeremonyKind::parse(&started.kind) {
            Some(CeremonyKind::Login) if started.user_id == Some(record.user_id) => {
                let state: PasskeyAuthentication =
                    serde_json::from_str(&started.state).map_err(|_| Refusal::Invalid)?;
                self.webauthn()
                    .finish_passkey_authentication(response, &state)
            }
            Some(CeremonyKind::Discoverable) => {
                let state: DiscoverableAuthentication =
                    serde_json::from_str(&started.state).map_err(|_| Refusal::Invalid)?;
                let (user, _) = self
                    .webauthn()
                    .identify_discoverable_authentication(response)
                    .map_err(|_| Refusal::Invalid)?;
                if user != record.user_id.as_uuid() {
                    return Err(Refusal::Invalid);
                }
                self.webauthn().finish_discoverable_authentication(
                    response,
                    state,
                    &[DiscoverableKey::from(&passkey)],
                )
            }
            _ => return Err(Refusal::Invalid),
        };
        let result = verdict.map_err(|e| match e {
            WebauthnError::CredentialPossibleCompromise => Refusal::Clone(record.id),
            _ => Refusal::Invalid,
        })?;
        if !result.user_verified() {
            return Err(Refusal::Invalid);
        }
        passkey.update_credential(&result);
        let (json, _, backup_eligible, backed_up) =
            passkey_state(&passkey).map_err(|_| Refusal::Invalid)?;
        Ok(PasskeyUse {
            id: record.id,
            passkey: json,
            sign_count: i64::from(result.counter()),
            backup_eligible,
            backed_up,
            used_at: self.now(),
        })
    }

    /// The caller's passkeys.
    pub(crate) async fn list_passkeys(&self, principal: &Principal) -> Result<Vec<PasskeyInfo>> {
        let account = self.own_account(principal).await?;
        Ok(self
            .store
            .passkeys(account.id)
            .await?
            .iter()
            .map(info)
            .collect())
    }

    /// Renames one of the caller's passkeys.
    pub(crate) async fn rename_own_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyInfo> {
        let name = passkey_name(name)?;
        let account = self.own_account(principal).await?;
        if !self.store.rename_passkey(account.id, id, &name).await? {
            return Err(Error::not_found());
        }
        self.store
            .passkeys(account.id)
            .await?
            .iter()
            .find(|p| p.id == id)
            .map(info)
            .ok_or_else(Error::not_found)
    }

    /// Deletes one of the caller's passkeys (never the account's last way to sign in)
    /// and, with `end_sessions`, ends the sessions it opened; how many ended.
    pub(crate) async fn delete_own_passkey(
        &self,
        principal: &Principal,
        id: PasskeyId,
        end_sessions: bool,
    ) -> Result<u64> {
        let account = self.own_account(principal).await?;
        match self.store.delete_passkey(account.id, id).await? {
            PasskeyRemoval::NotFound => Err(Error::not_found()),
            PasskeyRemoval::LastSignInMethod => Err(Error::new(
                ErrorKind::Conflict,
                "passkey: it is this account's only way to sign in; add another passkey or a sign-in provider first",
            )),
            PasskeyRemoval::Removed(sessions) if end_sessions => {
                self.end_sessions(account.id, &sessions, "passkey_removed")
                    .await
            }
            PasskeyRemoval::Removed(_) => Ok(0),
        }
    }
}
