//! The consumers around ended sessions:
//!
//! - [`RevocationRecorder`] tells a process's token verifier: every `session.revoked`
//!   event identity writes lands in a [`Revocations`] set, which
//!   [`JwksAuthenticator`](crate::JwksAuthenticator) consults on each verify;
//! - [`DeletedAccounts`] ends every session of an account the users domain deleted
//!   (`user.state_changed`, state `deleted`): identity alone writes its sessions.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::Revocations;
use nova_core::{Result, SessionId, UserId};
use nova_events::{EventEnvelope, EventHandler, types};
use nova_proto::nova::identity::v1::SessionRevoked;
use nova_proto::nova::user::v1::AccountStateChanged;
use prost::Message;

use crate::IdentityService;

/// The consumer group of [`RevocationRecorder`] (with [`nova_auth::KvRevocations`] one
/// replica of a service records each event and pub/sub tells the others).
pub const REVOCATIONS_CONSUMER: &str = "auth-revocations";

/// Records `session.revoked` events in a [`Revocations`] set (other events are skipped).
pub struct RevocationRecorder {
    revocations: Arc<dyn Revocations>,
}

impl std::fmt::Debug for RevocationRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationRecorder").finish_non_exhaustive()
    }
}

impl RevocationRecorder {
    /// Records into `revocations`.
    pub fn new(revocations: Arc<dyn Revocations>) -> Self {
        Self { revocations }
    }
}

#[async_trait]
impl EventHandler for RevocationRecorder {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        if event.event_type != types::SESSION_REVOKED {
            return Ok(());
        }
        // A payload that does not decode never will: retrying would stall every later
        // revocation behind it, so it is logged and skipped.
        let session = SessionRevoked::decode(event.payload.as_slice())
            .ok()
            .and_then(|r| r.session_id.parse::<SessionId>().ok());
        let Some(session) = session else {
            tracing::error!(event = %event.id, "session.revoked without a session id; skipped");
            return Ok(());
        };
        self.revocations.revoke(session).await
    }
}

/// The consumer group of [`DeletedAccounts`].
pub const DELETED_ACCOUNTS_CONSUMER: &str = "identity-deleted-accounts";

/// Ends the sessions of deleted accounts (`user.state_changed` with state `deleted`).
pub struct DeletedAccounts {
    identity: Arc<IdentityService>,
}

impl std::fmt::Debug for DeletedAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeletedAccounts").finish_non_exhaustive()
    }
}

impl DeletedAccounts {
    /// Ends sessions through `identity`.
    pub fn new(identity: Arc<IdentityService>) -> Self {
        Self { identity }
    }
}

#[async_trait]
impl EventHandler for DeletedAccounts {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        if event.event_type != types::USER_STATE_CHANGED {
            return Ok(());
        }
        let Ok(changed) = AccountStateChanged::decode(event.payload.as_slice()) else {
            tracing::error!(event = %event.id, "user.state_changed that does not decode; skipped");
            return Ok(());
        };
        if changed.state != "deleted" {
            return Ok(());
        }
        let Ok(user) = changed.user_id.parse::<UserId>() else {
            tracing::error!(event = %event.id, "user.state_changed without a user id; skipped");
            return Ok(());
        };
        self.identity.end_account_sessions(user).await.map(|_| ())
    }
}
