//! The trust & safety Store port and its SQL adapter (PostgreSQL and SQLite through
//! [`nova_db::on_db!`]).
//!
//! Every write takes the audit entries and outbox events of the change and commits them
//! in the same transaction; the audit table refuses UPDATE and DELETE in the database.

mod sql;

use async_trait::async_trait;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_events::EventEnvelope;
use uuid::Uuid;

use crate::model::{
    Action, ActionId, ActionKind, Appeal, AppealId, AppealStatus, AuditEntry, AuditId, AuditQuery,
    ContentLabel, Evidence, Report, ReportId, ReportReason, ReportStatus, Rule, RuleBody, RuleId,
    RuleOutcome, Target, TargetKind,
};

pub use sql::SqlTrustSafetyStore;

/// A target with open reports, as grouped by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    /// The target.
    pub target: Target,
    /// Open reports.
    pub report_count: i64,
    /// Highest severity among them.
    pub max_severity: i32,
    /// Sum of their reporters' trust.
    pub trust_sum: f64,
    /// The oldest.
    pub oldest: Timestamp,
    /// Assigned moderator.
    pub assignee: Option<UserId>,
    /// Escalated to admins.
    pub escalated: bool,
}

/// A new report with the reporter's trust at filing time.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    /// The report.
    pub report: Report,
    /// Severity of its reason.
    pub severity: i32,
    /// The reporter's trust (1.0 for someone without history).
    pub reporter_trust: f64,
}

/// Trust & safety storage.
#[async_trait]
pub trait TrustSafetyStore: Send + Sync {
    /// Files a report; `false` (nothing written) if this reporter already reported this target.
    async fn insert_report(
        &self,
        report: &ReportRecord,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// The report of `reporter` on `target`.
    async fn report_by(&self, reporter: UserId, target: Target) -> Result<Option<Report>>;
    /// A reporter's reports, newest first.
    async fn reports_by(&self, reporter: UserId, limit: u32) -> Result<Vec<Report>>;
    /// How many of a reporter's reports were actioned and how many dismissed.
    async fn reporter_history(&self, reporter: UserId) -> Result<(i64, i64)>;
    /// Open reports on one target, oldest first.
    async fn open_reports(&self, target: Target) -> Result<Vec<Report>>;
    /// Every target with open reports.
    async fn queue(&self) -> Result<Vec<QueueRow>>;
    /// Sets a queued target's assignee and escalation.
    async fn set_queue_state(
        &self,
        target: Target,
        assignee: Option<UserId>,
        escalated: bool,
        note: &str,
        now: Timestamp,
        audit: &[AuditEntry],
    ) -> Result<()>;
    /// Closes a target's open reports as dismissed (`outcome` told to reporters); how many.
    async fn dismiss_reports(
        &self,
        target: Target,
        outcome: &str,
        now: Timestamp,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<u64>;
    /// Records an action, closing the target's open reports as actioned with `outcome`.
    async fn insert_action(
        &self,
        action: &Action,
        outcome: &str,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// One action.
    async fn action(&self, id: ActionId) -> Result<Option<Action>>;
    /// Marks an action reversed; `false` if it is absent or already reversed.
    async fn reverse_action(
        &self,
        id: ActionId,
        by: UserId,
        note: &str,
        now: Timestamp,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Actions not reversed on any of `targets` (expiry is the caller's to check).
    async fn unreversed_actions(&self, targets: &[Target]) -> Result<Vec<Action>>;
    /// Actions whose subject is `user`, newest first.
    async fn actions_against(&self, user: UserId) -> Result<Vec<Action>>;
    /// Files an appeal; `Conflict` naming `action_id` if the action was appealed before.
    async fn insert_appeal(&self, appeal: &Appeal, audit: &[AuditEntry]) -> Result<()>;
    /// One appeal.
    async fn appeal(&self, id: AppealId) -> Result<Option<Appeal>>;
    /// Appeals of these actions.
    async fn appeals_of(&self, actions: &[ActionId]) -> Result<Vec<Appeal>>;
    /// Pending appeals, oldest first.
    async fn pending_appeals(&self, limit: u32) -> Result<Vec<Appeal>>;
    /// Decides a pending appeal (and, when granted, reverses its action in the same
    /// transaction); `false` if it is absent or no longer pending.
    async fn decide_appeal(
        &self,
        appeal: &Appeal,
        reverse: bool,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Audit entries, newest first.
    async fn audit(&self, query: &AuditQuery, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Appends `entry` unless an entry with its id exists (an event redelivered);
    /// whether it was appended.
    async fn append_audit_once(&self, entry: &AuditEntry) -> Result<bool>;
    /// Every rule.
    async fn rules(&self) -> Result<Vec<Rule>>;
    /// One rule.
    async fn rule(&self, id: RuleId) -> Result<Option<Rule>>;
    /// Saves `rule` (its `version` is the new one; `previous` the one it replaces, `None`
    /// for a new rule) and appends it to the history. `Conflict` naming `id` when the
    /// stored version is no longer `previous`.
    async fn save_rule(
        &self,
        rule: &Rule,
        previous: Option<i32>,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// Every version of a rule, oldest first.
    async fn rule_history(&self, id: RuleId) -> Result<Vec<Rule>>;
}

// Rows as stored, shared by both engines.

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReportRow {
    id: ReportId,
    reporter_id: UserId,
    target_kind: String,
    target_id: Uuid,
    reason: String,
    text: String,
    evidence_ciphertext_id: Option<String>,
    evidence_text: Option<String>,
    status: String,
    outcome: Option<String>,
    created_at: Timestamp,
    resolved_at: Option<Timestamp>,
}

fn stored<T>(r: Result<T>) -> Result<T> {
    r.map_err(|e| Error::internal(format!("stored value does not parse: {}", e.message())))
}

fn target_of(kind: &str, id: Uuid) -> Result<Target> {
    Ok(Target {
        kind: stored(TargetKind::parse(kind, "target_kind"))?,
        id,
    })
}

impl TryFrom<ReportRow> for Report {
    type Error = Error;
    fn try_from(r: ReportRow) -> Result<Self> {
        let evidence =
            (r.evidence_ciphertext_id.is_some() || r.evidence_text.is_some()).then_some(Evidence {
                ciphertext_id: r.evidence_ciphertext_id,
                shared_text: r.evidence_text,
            });
        Ok(Report {
            id: r.id,
            reporter: r.reporter_id,
            target: target_of(&r.target_kind, r.target_id)?,
            reason: stored(ReportReason::parse(&r.reason, "reason"))?,
            text: r.text,
            evidence,
            status: stored(ReportStatus::parse(&r.status, "status"))?,
            outcome: r.outcome,
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ActionRow {
    id: ActionId,
    target_kind: String,
    target_id: Uuid,
    subject_id: Option<UserId>,
    kind: String,
    label: Option<String>,
    reason: String,
    note: String,
    actor_id: UserId,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    reversed_at: Option<Timestamp>,
}

impl TryFrom<ActionRow> for Action {
    type Error = Error;
    fn try_from(r: ActionRow) -> Result<Self> {
        Ok(Action {
            id: r.id,
            target: target_of(&r.target_kind, r.target_id)?,
            subject: r.subject_id,
            kind: stored(ActionKind::parse(&r.kind, "kind"))?,
            label: r
                .label
                .map(|l| stored(ContentLabel::parse(&l, "label")))
                .transpose()?,
            reason: r.reason,
            note: r.note,
            actor: r.actor_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            reversed_at: r.reversed_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AppealRow {
    id: AppealId,
    action_id: ActionId,
    appellant_id: UserId,
    text: String,
    status: String,
    decided_by: Option<UserId>,
    decision_note: Option<String>,
    created_at: Timestamp,
    decided_at: Option<Timestamp>,
}

impl TryFrom<AppealRow> for Appeal {
    type Error = Error;
    fn try_from(r: AppealRow) -> Result<Self> {
        Ok(Appeal {
            id: r.id,
            action_id: r.action_id,
            appellant: r.appellant_id,
            text: r.text,
            status: stored(AppealStatus::parse(&r.status, "status"))?,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: AuditId,
    at: Timestamp,
    actor_id: Option<UserId>,
    action: String,
    subject: String,
    reason: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor_id,
            action: r.action,
            subject: r.subject,
            reason: r.reason,
            detail: r.detail,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RuleRow {
    id: RuleId,
    version: i32,
    name: String,
    body: String,
    outcome: String,
    public_reason: String,
    enabled: bool,
    updated_by: UserId,
    updated_at: Timestamp,
}

impl TryFrom<RuleRow> for Rule {
    type Error = Error;
    fn try_from(r: RuleRow) -> Result<Self> {
        let body: RuleBody = serde_json::from_str(&r.body)
            .map_err(|e| Error::internal(format!("stored rule body does not parse: {e}")))?;
        Ok(Rule {
            id: r.id,
            version: r.version,
            name: r.name,
            body,
            outcome: stored(RuleOutcome::parse(&r.outcome, "outcome"))?,
            public_reason: r.public_reason,
            enabled: r.enabled,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }
}
