//! Login with an OpenID Connect provider (Google, Apple, or any OIDC issuer):
//! authorization code flow with PKCE (S256), state and nonce; the ID token is verified
//! against the provider's JWKS (RS256, issuer, audience, expiry, nonce). Provider tokens
//! are kept encrypted ([`SecretBox`](crate::SecretBox)).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use nova_core::{Error, ErrorKind, Result, UserId};
use nova_proto::nova::identity::v1 as events;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::{LoginOutcome, OAuthStart, RequestContext};
use crate::service::{IdentityService, hash_secret, new_secret};
use crate::store::{AccountRecord, OAuthFlow, OAuthIdentity};
use crate::validation;

/// One OpenID Connect provider's endpoints and client credentials.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// Expected `iss` of ID tokens.
    pub issuer: String,
    /// Where the browser goes to log in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The provider's public keys.
    pub jwks_uri: String,
    /// Our client id (the ID token's `aud`).
    pub client_id: String,
    /// Our client secret.
    pub client_secret: String,
    /// Redirect URIs we accept in `oauth_start` (exact match).
    pub redirect_uris: Vec<String>,
}

impl OidcProvider {
    /// Google's endpoints.
    pub fn google(client_id: &str, client_secret: &str, redirect_uris: Vec<String>) -> Self {
        Self {
            issuer: "https://accounts.google.com".into(),
            authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_endpoint: "https://oauth2.googleapis.com/token".into(),
            jwks_uri: "https://www.googleapis.com/oauth2/v3/certs".into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris,
        }
    }

    /// Apple's endpoints (`client_secret` is the signed client-secret JWT Apple requires).
    pub fn apple(client_id: &str, client_secret: &str, redirect_uris: Vec<String>) -> Self {
        Self {
            issuer: "https://appleid.apple.com".into(),
            authorization_endpoint: "https://appleid.apple.com/auth/authorize".into(),
            token_endpoint: "https://appleid.apple.com/auth/token".into(),
            jwks_uri: "https://appleid.apple.com/auth/keys".into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris,
        }
    }
}

/// The configured providers, by name (`google`, `apple`, ...).
#[derive(Debug, Clone)]
pub struct OAuthProviders {
    providers: HashMap<String, OidcProvider>,
    http: reqwest::Client,
    flow_ttl: chrono::Duration,
}

impl Default for OAuthProviders {
    fn default() -> Self {
        Self {
            providers: HashMap::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            flow_ttl: chrono::Duration::minutes(10),
        }
    }
}

impl OAuthProviders {
    /// Adds (or replaces) a provider.
    pub fn with(mut self, name: &str, provider: OidcProvider) -> Self {
        self.providers.insert(name.to_owned(), provider);
        self
    }

    fn get(&self, name: &str) -> Result<&OidcProvider> {
        self.providers
            .get(name)
            .ok_or_else(|| Error::invalid("provider", "is not a configured login provider"))
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: String,
    access_token: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "bool_or_string")]
    email_verified: bool,
}

/// Apple sends `email_verified` as a string.
fn bool_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        B(bool),
        S(String),
    }
    Ok(match B::deserialize(d)? {
        B::B(b) => b,
        B::S(s) => s == "true",
    })
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<JwkKey>,
}

#[derive(Deserialize)]
struct JwkKey {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
}

fn denied() -> Error {
    Error::new(ErrorKind::Unauthenticated, "login with the provider failed")
}

/// An account has the provider's email but never verified it: no link.
fn unverified_account() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "email: an account with this email exists but its email is not verified, so it \
         cannot be linked automatically; log in with its password (or reset the password \
         through the email) and link the provider from your account settings",
    )
}

fn upstream(e: reqwest::Error) -> Error {
    Error::unavailable(e)
}

impl IdentityService {
    pub(crate) async fn oauth_begin(
        &self,
        provider: &str,
        redirect_uri: &str,
    ) -> Result<OAuthStart> {
        let config = self.oauth.get(provider)?;
        if !config.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(Error::invalid(
                "redirect_uri",
                "is not registered for this provider",
            ));
        }
        let (state, state_hash) = new_secret();
        let (nonce, _) = new_secret();
        let (verifier, _) = new_secret();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let now = self.now();
        self.store
            .save_oauth_flow(&OAuthFlow {
                state_hash,
                provider: provider.to_owned(),
                nonce: nonce.clone(),
                pkce_verifier: verifier,
                redirect_uri: redirect_uri.to_owned(),
                created_at: now,
                expires_at: now + self.oauth.flow_ttl,
            })
            .await?;
        let url = url::Url::parse_with_params(
            &config.authorization_endpoint,
            &[
                ("response_type", "code"),
                ("client_id", config.client_id.as_str()),
                ("redirect_uri", redirect_uri),
                ("scope", "openid email profile"),
                ("state", state.as_str()),
                ("nonce", nonce.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|e| Error::internal(format!("bad authorization endpoint: {e}")))?;
        Ok(OAuthStart {
            authorization_url: url.to_string(),
            state,
        })
    }

    /// Checks the state, exchanges the code (PKCE) and verifies the ID token.
    async fn exchange(
        &self,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<(IdClaims, TokenResponse)> {
        validation::required("code", code, 2048)?;
        validation::required("state", state, 128)?;
        let config = self.oauth.get(provider)?;
        let flow = self
            .store
            .take_oauth_flow(&hash_secret(state), self.now())
            .await?
            .filter(|f| f.provider == provider)
            .ok_or_else(denied)?;
        let tokens: TokenResponse = self
            .oauth
            .http
            .post(&config.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", flow.redirect_uri.as_str()),
                ("client_id", config.client_id.as_str()),
                ("client_secret", config.client_secret.as_str()),
                ("code_verifier", flow.pkce_verifier.as_str()),
            ])
            .send()
            .await
            .map_err(upstream)?
            .error_for_status()
            .map_err(|_| denied())?
            .json()
            .await
            .map_err(|_| denied())?;
        let claims = self.verify_id_token(config, &tokens.id_token).await?;
        if claims.nonce.as_deref() != Some(flow.nonce.as_str()) {
            return Err(denied());
        }
        Ok((claims, tokens))
    }

    /// Links a finished authorization to `account` (the caller's, from settings).
    pub(crate) async fn oauth_link_to(
        &self,
        account: &AccountRecord,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<()> {
        let (claims, tokens) = self.exchange(provider, code, state).await?;
        if let Some(linked) = self.store.oauth_identity(provider, &claims.sub).await?
            && linked.user_id != account.id
        {
            return Err(Error::new(
                ErrorKind::Conflict,
                "provider: this provider account is already linked to another account",
            ));
        }
        let mut identity = self.identity_record(provider, &claims, &tokens)?;
        identity.user_id = account.id;
        self.store.upsert_oauth_identity(&identity).await
    }

    fn identity_record(
        &self,
        provider: &str,
        claims: &IdClaims,
        tokens: &TokenResponse,
    ) -> Result<OAuthIdentity> {
        let now = self.now();
        let seal = |t: &Option<String>| t.as_deref().map(|t| self.secrets.encrypt(t)).transpose();
        Ok(OAuthIdentity {
            provider: provider.to_owned(),
            subject: claims.sub.clone(),
            user_id: UserId::new(),
            email: claims.email.clone(),
            access_token_enc: seal(&tokens.access_token)?,
            refresh_token_enc: seal(&tokens.refresh_token)?,
            key_id: self.secrets.active_kid().to_owned(),
            created_at: now,
            updated_at: now,
        })
    }

    pub(crate) async fn oauth_finish(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        ctx: &RequestContext,
    ) -> Result<LoginOutcome> {
        let (claims, tokens) = self.exchange(provider, code, state).await?;
        let user = self.link_identity(provider, &claims, &tokens).await?;
        let account = self.store.account_by_id(user).await?.ok_or_else(denied)?;
        // The provider vouches for the email, not for the second factor: an account with
        // TOTP on gets the same challenge as after its password.
        if account.totp_enabled_at.is_some() {
            return self.challenge(&account).await;
        }
        self.open_session(user, ctx)
            .await
            .map(LoginOutcome::Authenticated)
    }

    async fn verify_id_token(&self, config: &OidcProvider, id_token: &str) -> Result<IdClaims> {
        let header = decode_header(id_token).map_err(|_| denied())?;
        if header.alg != Algorithm::RS256 {
            return Err(denied());
        }
        let jwks: Jwks = self
            .oauth
            .http
            .get(&config.jwks_uri)
            .send()
            .await
            .map_err(upstream)?
            .error_for_status()
            .map_err(upstream)?
            .json()
            .await
            .map_err(upstream)?;
        let key = jwks
            .keys
            .iter()
            .find(|k| k.kty == "RSA" && (header.kid.is_none() || k.kid == header.kid))
            .ok_or_else(denied)?;
        let (Some(n), Some(e)) = (&key.n, &key.e) else {
            return Err(denied());
        };
        let key = DecodingKey::from_rsa_components(n, e).map_err(|_| denied())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<IdClaims>(id_token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|_| denied())
    }

    /// The Nova account for a provider identity: already linked, linked now by verified
    /// email, or created.
    async fn link_identity(
        &self,
        provider: &str,
        claims: &IdClaims,
        tokens: &TokenResponse,
    ) -> Result<UserId> {
        let now = self.now();
        let mut identity = self.identity_record(provider, claims, tokens)?;
        if let Some(linked) = self.store.oauth_identity(provider, &claims.sub).await? {
            identity.user_id = linked.user_id;
            identity.created_at = linked.created_at;
            self.store.upsert_oauth_identity(&identity).await?;
            return Ok(linked.user_id);
        }
        // Only an address the provider verified may reach an existing account, and only
        // one whose owner verified it too: otherwise whoever registered the address first
        // (without access to the mailbox) would receive the provider's user.
        let email = claims.email.as_deref().filter(|_| claims.email_verified);
        if let Some(email) = email
            && let Some(existing) = self.store.account_by_email(email).await?
        {
            if existing.email_verified_at.is_none() {
                return Err(unverified_account());
            }
            identity.user_id = existing.id;
            self.store.upsert_oauth_identity(&identity).await?;
            return Ok(existing.id);
        }
        let email = email.ok_or_else(|| {
            Error::invalid(
                "email",
                "the provider did not share a verified email address",
            )
        })?;
        let account = AccountRecord {
            id: identity.user_id,
            email: email.to_owned(),
            email_verified_at: Some(now),
            username: self.free_username(email).await?,
            password_hash: None,
            totp_secret_enc: None,
            totp_enabled_at: None,
            totp_last_step: None,
            created_at: now,
        };
        let event = self.event(
            "user.registered",
            account.id,
            &events::UserRegistered {
                user_id: account.id.to_string(),
                username: account.username.clone(),
                email_verified: true,
            },
        );
        self.store
            .create_oauth_account(&account, &identity, &[event])
            .await?;
        self.wake_relay();
        Ok(account.id)
    }

    /// A valid, unused username derived from the email's local part.
    async fn free_username(&self, email: &str) -> Result<String> {
        let local = email.split('@').next().unwrap_or_default();
        let mut base: String = local
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(20)
            .collect();
        if !base.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            base.insert(0, 'u');
        }
        while base.len() < 3 {
            base.push('_');
        }
        for attempt in 0..20u32 {
            let candidate = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}_{}", rand::random::<u16>())
            };
            if validation::username(&candidate).is_ok()
                && self.store.account_by_username(&candidate).await?.is_none()
            {
                return Ok(candidate);
            }
        }
        Err(Error::new(
            ErrorKind::Conflict,
            "username: could not find a free username",
        ))
    }
}
