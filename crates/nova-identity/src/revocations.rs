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
use nova_proto::nova::trustsafety::v1::ActionChanged;
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

/// The consumer group of [`Suspensions`].
pub const SUSPENSIONS_CONSUMER: &str = "identity-suspensions";

/// Enforces trust & safety's account suspensions (and deletions) here, where logins and
/// sessions live: `trust_safety.action_taken` suspends the account and ends its
/// sessions, `trust_safety.action_reversed` lifts it. Idempotent per action.
pub struct Suspensions {
    identity: Arc<IdentityService>,
}

impl std::fmt::Debug for Suspensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suspensions").finish_non_exhaustive()
    }
}

impl Suspensions {
    /// Enforces through `identity`.
    pub fn new(identity: Arc<IdentityService>) -> Self {
        Self { identity }
    }
}

#[async_trait]
impl EventHandler for Suspensions {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        let taken = match event.event_type.as_str() {
            types::MODERATION_ACTION_TAKEN => true,
            types::MODERATION_ACTION_REVERSED => false,
            _ => return Ok(()),
        };
        let Some(action) = ActionChanged::decode(event.payload.as_slice())
            .ok()
            .and_then(|c| c.action)
        else {
            tracing::error!(event = %event.id, "moderation event that does not decode; skipped");
            return Ok(());
        };
        let on_account = action.target.as_ref().is_some_and(|t| t.kind == "account");
        if !on_account || !matches!(action.kind.as_str(), "suspend" | "delete") {
            return Ok(());
        }
        let Some(user) = action
            .target
            .as_ref()
            .and_then(|t| t.id.parse::<UserId>().ok())
        else {
            tracing::error!(event = %event.id, "moderation event without an account id; skipped");
            return Ok(());
        };
        if taken {
            let until = action.expires_at.and_then(|t| {
                chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
            });
            self.identity
                .suspend_account(user, &action.id, until)
                .await
                .map(|_| ())
        } else {
            self.identity
                .lift_suspension(user, &action.id)
                .await
                .map(|_| ())
        }
    }
}
