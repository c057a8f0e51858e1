//! Plain identity types, as the API speaks them.

use std::net::IpAddr;

use nova_core::{SessionId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Who is asking, as far as the transport can tell (for sessions and rate limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// The client's address, if known.
    pub ip: Option<IpAddr>,
    /// The `User-Agent`, truncated.
    pub user_agent: String,
}

impl RequestContext {
    /// A context from raw transport values (the user agent is cut to 256 characters).
    pub fn new(ip: Option<IpAddr>, user_agent: &str) -> Self {
        Self {
            ip,
            user_agent: user_agent.chars().take(256).collect(),
        }
    }
}

/// `POST /api/v1/auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Email address (unique, case-insensitive).
    pub email: String,
    /// Username (unique, case-insensitive): 3–30 of `a-z 0-9 _`, starting with a letter.
    pub username: String,
    /// 12–128 characters, not a common password.
    pub password: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Email or username.
    pub identifier: String,
    /// The password.
    pub password: String,
    /// The current refresh token of a recent session of this account on this device: such
    /// a login is not held back by the per-account failure budget (only the per-address
    /// one), so an attacker spending it does not lock the owner out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// A TOTP or recovery code sent with the password: logs in without a challenge, and
    /// lets the login through a spent per-account budget (the second factor has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl LoginRequest {
    /// A plain password login.
    pub fn new(identifier: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            password: password.into(),
            device_token: None,
            code: None,
        }
    }
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The user id.
    pub id: UserId,
    /// Email address.
    pub email: String,
    /// Username as chosen (display case).
    pub username: String,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Whether TOTP two-factor login is on.
    pub two_factor_enabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// Tokens handed to a client after a login or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// RS256 JWT, 15 minutes.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: Timestamp,
    /// Opaque, single use: every refresh returns a new one.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: Timestamp,
    /// Always `Bearer`.
    pub token_type: String,
    /// The session (device login) these tokens belong to.
    pub session_id: SessionId,
    /// The user.
    pub user_id: UserId,
}

/// The answer to a password login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// Logged in.
    Authenticated(TokenPair),
    /// The password was right; now send a TOTP or recovery code with this challenge.
    TwoFactorRequired {
        /// Opaque challenge, valid for 5 minutes.
        challenge: String,
        /// When it expires.
        expires_at: Timestamp,
    },
}

/// One login session, as listed to its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session id.
    pub id: SessionId,
    /// Browser / app that created it.
    pub user_agent: String,
    /// Address it was created from.
    pub ip: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last refresh.
    pub last_seen_at: Timestamp,
    /// Whether this is the caller's own session.
    pub current: bool,
}

/// What a user needs to add Nova to an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// The secret, base32 (for manual entry).
    pub secret: String,
    /// `otpauth://totp/...` (for a QR code).
    pub otpauth_uri: String,
}

/// Where to send the browser to log in with a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthStart {
    /// The provider's authorization URL (with state, nonce and PKCE challenge).
    pub authorization_url: String,
    /// The state value the callback must return.
    pub state: String,
}

nova_core::define_id!(
    /// A registered passkey (WebAuthn credential).
    PasskeyId
);

/// A passkey ceremony in progress: hand `options` to `navigator.credentials.create()` /
/// `.get()` (as `publicKey` options) and send the result back with `ceremony`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// Opaque, single use, valid for 5 minutes; the finish call names it.
    pub ceremony: String,
    /// WebAuthn `CredentialCreationOptions` (registration) or `CredentialRequestOptions`
    /// (sign-in), as JSON.
    pub options: serde_json::Value,
    /// When the ceremony expires.
    pub expires_at: Timestamp,
}

/// One of the caller's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    /// Its id (for rename and delete).
    pub id: PasskeyId,
    /// The name its owner gave it.
    pub name: String,
    /// The authenticator's signature counter (0 for authenticators without one).
    pub sign_count: i64,
    /// Whether the credential may be synced to other devices (backup eligible).
    pub backup_eligible: bool,
    /// Whether it is synced (backed up) now.
    pub backed_up: bool,
    /// How the client may reach the authenticator (`usb`, `nfc`, `ble`, `internal`,
    /// `hybrid`), as it told us at registration.
    pub transports: Vec<String>,
    /// Registered.
    pub created_at: Timestamp,
    /// Last sign-in with it.
    pub last_used_at: Option<Timestamp>,
    /// The last time an assertion was refused because its signature counter went
    /// backwards (the key may have been cloned).
    pub clone_warning_at: Option<Timestamp>,
}
