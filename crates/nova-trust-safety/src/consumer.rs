//! Trust & safety's event consumers:
//! - [`RulesReload`] recompiles the pre-publish rules when a `trust_safety.rules_changed`
//!   event arrives, so a moderator's change takes effect in every process that checks
//!   content (idempotent: reloading twice compiles the same rules);
//! - [`RoleAudit`] writes identity's staff role changes (`identity.role_changed`) into the
//!   audit log, once per event.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, UserId};
use nova_events::{EventEnvelope, EventHandler, types};
use nova_proto::nova::identity::v1::RoleChanged;
use prost::Message;

use crate::service::{RULES_CHANGED, RoleChange, TrustSafetyService};

/// The consumer group of [`RulesReload`].
pub const CONSUMER: &str = "trust-safety-rules";

/// Reloads `service`'s rules on each rule change.
pub struct RulesReload {
    service: Arc<TrustSafetyService>,
}

impl std::fmt::Debug for RulesReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulesReload").finish_non_exhaustive()
    }
}

impl RulesReload {
    /// Reloads `service`.
    pub fn new(service: Arc<TrustSafetyService>) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for RulesReload {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        if event.event_type != RULES_CHANGED {
            return Ok(());
        }
        let enabled = self.service.reload_rules().await?;
        tracing::info!(enabled, "pre-publish rules reloaded");
        Ok(())
    }
}

/// The consumer group of [`RoleAudit`].
pub const ROLES_CONSUMER: &str = "trust-safety-roles";

/// Audits staff role changes (the audit entry's id is the event's: redelivery is a no-op).
pub struct RoleAudit {
    service: Arc<TrustSafetyService>,
}

impl std::fmt::Debug for RoleAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleAudit").finish_non_exhaustive()
    }
}

impl RoleAudit {
    /// Writes into `service`'s audit log.
    pub fn new(service: Arc<TrustSafetyService>) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for RoleAudit {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        if event.event_type != types::ROLE_CHANGED {
            return Ok(());
        }
        // A payload that does not decode never will: retrying would stall the log.
        let change = RoleChanged::decode(event.payload.as_slice())
            .ok()
            .and_then(|r| {
                Some(RoleChange {
                    user: r.user_id.parse::<UserId>().ok()?,
                    actor: r.actor_id.parse::<UserId>().ok()?,
                    role: r.role,
                    granted: r.granted,
                    reason: r.reason,
                })
            });
        let Some(change) = change else {
            tracing::error!(event = %event.id, "identity.role_changed without its accounts; skipped");
            return Ok(());
        };
        self.service
            .audit_role_change(event.id.as_uuid(), event.occurred_at, change)
            .await
            .map(|_| ())
    }
}
