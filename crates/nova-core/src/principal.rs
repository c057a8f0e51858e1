//! Who is calling.

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, SessionId, UserId};

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
}

impl Principal {
    /// A principal with the usual user scopes.
    pub fn user(user_id: UserId, session_id: SessionId) -> Self {
        Self {
            user_id,
            session_id,
            scopes: vec!["read".into(), "write".into()],
        }
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
