//! Who is calling.

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, SessionId, UserId};

/// What kind of caller a [`Principal`] is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "name")]
pub enum PrincipalKind {
    /// A person, signed in on one session.
    #[default]
    User,
    /// A Nova service (its name, e.g. `feed-service`), established from a service token
    /// identity minted for it; trusted to act for the users named in internal RPCs.
    Service(String),
}

/// An authenticated caller, as established from a verified access token.
///
/// Domain services take `Option<&Principal>` (or `&Principal` where a login is required)
/// and do their own authorization with it; the gateway is never the only check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The session (device login) the token belongs to.
    pub session_id: SessionId,
    /// Granted scopes, e.g. `"read"`, `"write"`, `"admin"`.
    pub scopes: Vec<String>,
    /// A user or a service.
    #[serde(default)]
    pub kind: PrincipalKind,
}

impl Principal {
    /// A principal with the usual user scopes.
    pub fn user(user_id: UserId, session_id: SessionId) -> Self {
        Self {
            user_id,
            session_id,
            scopes: vec!["read".into(), "write".into()],
            kind: PrincipalKind::User,
        }
    }

    /// The service `service` itself (a verified service token): no user, no session.
    pub fn service(service: impl Into<String>) -> Self {
        Self {
            user_id: UserId::from_uuid(uuid::Uuid::nil()),
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            scopes: vec!["service".into()],
            kind: PrincipalKind::Service(service.into()),
        }
    }

    /// The service `service` reading on `user`'s behalf, inside its own process (e.g. the
    /// feed backfilling a timeline): it sees what `user` may see, and says who asked.
    pub fn acting_for(service: impl Into<String>, user: UserId) -> Self {
        Self {
            user_id: user,
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            scopes: vec!["read".into()],
            kind: PrincipalKind::Service(service.into()),
        }
    }

    /// The service name, for a service principal.
    pub fn service_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Service(name) => Some(name),
            PrincipalKind::User => None,
        }
    }

    /// Whether this is a signed-in user (not a service).
    pub fn is_user(&self) -> bool {
        self.kind == PrincipalKind::User
    }

    /// Whether the principal holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `PermissionDenied` unless the principal holds `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), Error> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Error::from_kind(ErrorKind::PermissionDenied))
        }
    }

    /// Whether this principal is `user`.
    pub fn is(&self, user: UserId) -> bool {
        self.user_id == user
    }
}

/// `Unauthenticated` unless there is a principal.
pub fn require(principal: Option<&Principal>) -> Result<&Principal, Error> {
    principal.ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))
}
