//! Model ↔ protobuf conversions for the identity gRPC adapters.
//!
//! Requests arriving at the server are client input: a malformed value is
//! `InvalidArgument` naming the field. Responses arriving at the client come from the
//! identity service itself: a malformed value there is a bug or a version skew, so it is
//! `Internal` (logged, never blamed on the caller's input).

use std::net::IpAddr;

use nova_core::{Error, Principal, Result, SessionId, Timestamp, UserId};
use nova_proto::nova::identity::v1 as pb;

use crate::model::{
    Account, LoginOutcome, OAuthStart, PasskeyChallenge, PasskeyInfo, RequestContext, SessionInfo,
    TokenPair, TotpEnrollment,
};

/// A timestamp on the wire.
pub(super) fn timestamp(t: Timestamp) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

/// `Internal`: the identity service answered something this client cannot read.
pub(super) fn bad_response(field: &str) -> Error {
    Error::internal(format!(
        "identity gRPC response: missing or malformed `{field}`"
    ))
}

/// A timestamp from a response.
fn timestamp_from(t: Option<prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    let t = t.ok_or_else(|| bad_response(field))?;
    let nanos = u32::try_from(t.nanos).map_err(|_| bad_response(field))?;
    chrono::DateTime::from_timestamp(t.seconds, nanos).ok_or_else(|| bad_response(field))
}

/// An id from a response.
fn id_from<T: From<uuid::Uuid>>(value: &str, field: &str) -> Result<T> {
    value
        .parse::<uuid::Uuid>()
        .map(T::from)
        .map_err(|_| bad_response(field))
}

/// The request context from a request; an unparsable address is `InvalidArgument`
/// naming `context.ip`.
pub(super) fn context_from(ctx: Option<pb::RequestContext>) -> Result<RequestContext> {
    let ctx = ctx.unwrap_or_default();
    let ip = match ctx.ip.trim() {
        "" => None,
        ip => Some(
            ip.parse::<IpAddr>()
                .map_err(|_| Error::invalid("context.ip", "must be an IP address"))?,
        ),
    };
    Ok(RequestContext::new(ip, &ctx.user_agent))
}

/// The request context for a request.
pub(super) fn context(ctx: &RequestContext) -> Option<pb::RequestContext> {
    Some(pb::RequestContext {
        ip: ctx.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        user_agent: ctx.user_agent.clone(),
    })
}

/// An account on the wire.
pub(super) fn account(a: Account) -> pb::Account {
    pb::Account {
        id: a.id.to_string(),
        email: a.email,
        username: a.username,
        email_verified: a.email_verified,
        two_factor_enabled: a.two_factor_enabled,
        created_at: timestamp(a.created_at),
    }
}

/// An account from a response.
pub(super) fn account_from(a: pb::Account) -> Result<Account> {
    Ok(Account {
        id: id_from::<UserId>(&a.id, "id")?,
        email: a.email,
        username: a.username,
        email_verified: a.email_verified,
        two_factor_enabled: a.two_factor_enabled,
        created_at: timestamp_from(a.created_at, "created_at")?,
    })
}

/// A token pair on the wire.
pub(super) fn token_pair(t: TokenPair) -> pb::TokenPair {
    pb::TokenPair {
        access_token: t.access_token,
        access_expires_at: timestamp(t.access_expires_at),
        refresh_token: t.refresh_token,
        refresh_expires_at: timestamp(t.refresh_expires_at),
        token_type: t.token_type,
        session_id: t.session_id.to_string(),
        user_id: t.user_id.to_string(),
    }
}

/// A token pair from a response.
pub(super) fn token_pair_from(t: pb::TokenPair) -> Result<TokenPair> {
    Ok(TokenPair {
        access_token: t.access_token,
        access_expires_at: timestamp_from(t.access_expires_at, "access_expires_at")?,
        refresh_token: t.refresh_token,
        refresh_expires_at: timestamp_from(t.refresh_expires_at, "refresh_expires_at")?,
        token_type: t.token_type,
        session_id: id_from::<SessionId>(&t.session_id, "session_id")?,
        user_id: id_from::<UserId>(&t.user_id, "user_id")?,
    })
}

/// A login outcome on the wire.
pub(super) fn login_outcome(o: LoginOutcome) -> pb::LoginResponse {
    use pb::login_response::Outcome;
    let outcome = match o {
        LoginOutcome::Authenticated(pair) => Outcome::Authenticated(token_pair(pair)),
        LoginOutcome::TwoFactorRequired {
            challenge,
            expires_at,
        } => Outcome::TwoFactorRequired(pb::TwoFactorChallenge {
            challenge,
            expires_at: timestamp(expires_at),
        }),
    };
    pb::LoginResponse {
        outcome: Some(outcome),
    }
}

/// A login outcome from a response.
pub(super) fn login_outcome_from(r: pb::LoginResponse) -> Result<LoginOutcome> {
    use pb::login_response::Outcome;
    match r.outcome.ok_or_else(|| bad_response("outcome"))? {
        Outcome::Authenticated(pair) => Ok(LoginOutcome::Authenticated(token_pair_from(pair)?)),
        Outcome::TwoFactorRequired(c) => Ok(LoginOutcome::TwoFactorRequired {
            challenge: c.challenge,
            expires_at: timestamp_from(c.expires_at, "expires_at")?,
        }),
    }
}

/// A session on the wire.
pub(super) fn session(s: SessionInfo) -> pb::Session {
    pb::Session {
        id: s.id.to_string(),
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: timestamp(s.created_at),
        last_seen_at: timestamp(s.last_seen_at),
        current: s.current,
    }
}

/// A session from a response.
pub(super) fn session_from(s: pb::Session) -> Result<SessionInfo> {
    Ok(SessionInfo {
        id: id_from::<SessionId>(&s.id, "id")?,
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: timestamp_from(s.created_at, "created_at")?,
        last_seen_at: timestamp_from(s.last_seen_at, "last_seen_at")?,
        current: s.current,
    })
}

/// A TOTP enrolment on the wire.
pub(super) fn totp_enrollment(e: TotpEnrollment) -> pb::TotpEnrollment {
    pb::TotpEnrollment {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    }
}

/// A TOTP enrolment from a response.
pub(super) fn totp_enrollment_from(e: pb::TotpEnrollment) -> TotpEnrollment {
    TotpEnrollment {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    }
}

/// An OAuth start on the wire.
pub(super) fn oauth_start(s: OAuthStart) -> pb::OauthStartResponse {
    pb::OauthStartResponse {
        authorization_url: s.authorization_url,
        state: s.state,
    }
}

/// An OAuth start from a response.
pub(super) fn oauth_start_from(s: pb::OauthStartResponse) -> OAuthStart {
    OAuthStart {
        authorization_url: s.authorization_url,
        state: s.state,
    }
}

/// A principal on the wire.
pub(super) fn principal(p: Principal) -> pb::Principal {
    pb::Principal {
        user_id: p.user_id.to_string(),
        session_id: p.session_id.to_string(),
        scopes: p.scopes,
    }
}

/// A principal from a response.
pub(super) fn principal_from(p: pb::Principal) -> Result<Principal> {
    Ok(Principal {
        user_id: id_from::<UserId>(&p.user_id, "user_id")?,
        session_id: id_from::<SessionId>(&p.session_id, "session_id")?,
        scopes: p.scopes,
        // The wire form has no kind: identity only answers for user tokens here.
        kind: nova_core::PrincipalKind::User,
    })
}

/// A passkey ceremony on the wire.
pub(super) fn passkey_challenge(c: PasskeyChallenge) -> pb::PasskeyChallenge {
    pb::PasskeyChallenge {
        ceremony: c.ceremony,
        options_json: c.options.to_string(),
        expires_at: timestamp(c.expires_at),
    }
}

/// A passkey ceremony from a response.
pub(super) fn passkey_challenge_from(c: pb::PasskeyChallenge) -> Result<PasskeyChallenge> {
    Ok(PasskeyChallenge {
        options: serde_json::from_str(&c.options_json).map_err(|_| bad_response("options_json"))?,
        expires_at: timestamp_from(c.expires_at, "expires_at")?,
        ceremony: c.ceremony,
    })
}

/// A passkey on the wire.
pub(super) fn passkey(p: PasskeyInfo) -> pb::Passkey {
    pb::Passkey {
        id: p.id.to_string(),
        name: p.name,
        sign_count: p.sign_count,
        backup_eligible: p.backup_eligible,
        backed_up: p.backed_up,
        transports: p.transports,
        created_at: timestamp(p.created_at),
        last_used_at: p.last_used_at.and_then(timestamp),
        clone_warning_at: p.clone_warning_at.and_then(timestamp),
    }
}

/// A passkey from a response.
pub(super) fn passkey_from(p: pb::Passkey) -> Result<PasskeyInfo> {
    let optional = |t: Option<prost_types::Timestamp>, field: &str| {
        t.map(|t| timestamp_from(Some(t), field)).transpose()
    };
    Ok(PasskeyInfo {
        id: id_from(&p.id, "id")?,
        name: p.name,
        sign_count: p.sign_count,
        backup_eligible: p.backup_eligible,
        backed_up: p.backed_up,
        transports: p.transports,
        created_at: timestamp_from(p.created_at, "created_at")?,
        last_used_at: optional(p.last_used_at, "last_used_at")?,
        clone_warning_at: optional(p.clone_warning_at, "clone_warning_at")?,
    })
}

/// A WebAuthn credential sent as JSON text; unreadable JSON is `InvalidArgument` naming
/// `credential_json`.
pub(super) fn credential_from(json: &str) -> Result<serde_json::Value> {
    serde_json::from_str(json).map_err(|_| Error::invalid("credential_json", "is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_to_the_microsecond() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
        assert_eq!(timestamp_from(timestamp(t), "t").unwrap(), t);
        assert!(timestamp_from(None, "t").is_err());
    }

    #[test]
    fn a_bad_context_ip_names_the_field() {
        let ctx = pb::RequestContext {
            ip: "not-an-ip".into(),
            user_agent: String::new(),
        };
        let err = context_from(Some(ctx)).unwrap_err();
        assert_eq!(err.field(), Some("context.ip"));
        let ok = context_from(Some(pb::RequestContext {
            ip: "::1".into(),
            user_agent: "x".repeat(300),
        }))
        .unwrap();
        assert_eq!(ok.ip, Some("::1".parse().unwrap()));
        assert_eq!(ok.user_agent.chars().count(), 256);
    }
}
