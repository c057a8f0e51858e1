//! The trust & safety API.

use async_trait::async_trait;
use nova_core::{Principal, Result, UserId};

use crate::model::{
    Action, ActionId, Appeal, AppealId, AuditEntry, AuditQuery, CheckInput, NewAction, NewReport,
    QueueFilter, QueueItem, Report, Rule, RuleDraft, RuleId, Strike, Target, Verdict,
};

/// Reports, moderation, appeals, audit and rules before publishing.
///
/// Moderation methods need the `moderator` (or `admin`) scope on the principal; anyone
/// else gets `NotFound`, exactly as for a thing that does not exist. Escalated queue
/// items, `delete` actions and deciding escalated targets need `admin`.
#[async_trait]
pub trait TrustSafetyApi: Send + Sync {
    /// Files a report. Reporting the same target again returns the first report and
    /// changes nothing; too many reports in a short time is `RateLimited`.
    async fn report(&self, reporter: &Principal, report: NewReport) -> Result<Report>;
    /// The caller's reports with their outcomes, newest first.
    async fn my_reports(&self, reporter: &Principal) -> Result<Vec<Report>>;
    /// Actions against the caller, with reasons and appeals, newest first.
    async fn strikes(&self, user: &Principal) -> Result<Vec<Strike>>;
    /// Appeals an action against the caller, once per action.
    async fn appeal(&self, user: &Principal, action: ActionId, text: &str) -> Result<Appeal>;

    /// Targets with open reports, highest priority first (at most `limit`, ≤ 500).
    async fn queue(
        &self,
        moderator: &Principal,
        filter: QueueFilter,
        limit: u32,
    ) -> Result<Vec<QueueItem>>;
    /// The open reports on one target.
    async fn target_reports(&self, moderator: &Principal, target: Target) -> Result<Vec<Report>>;
    /// Assigns a queued target to a moderator (`None`: unassigns).
    async fn assign(
        &self,
        moderator: &Principal,
        target: Target,
        assignee: Option<UserId>,
    ) -> Result<()>;
    /// Hands a queued target to the admins.
    async fn escalate(&self, moderator: &Principal, target: Target, note: &str) -> Result<()>;
    /// Closes a target's open reports without action; how many were closed.
    async fn dismiss(&self, moderator: &Principal, target: Target, note: &str) -> Result<u64>;
    /// Takes an action; it closes the target's open reports and is published as an event.
    async fn take_action(&self, moderator: &Principal, action: NewAction) -> Result<Action>;
    /// Undoes an action.
    async fn reverse_action(
        &self,
        moderator: &Principal,
        action: ActionId,
        note: &str,
    ) -> Result<Action>;
    /// Pending appeals, oldest first.
    async fn pending_appeals(&self, moderator: &Principal, limit: u32) -> Result<Vec<Appeal>>;
    /// Decides an appeal; the moderator must not be the one who took the action. Granting
    /// reverses the action.
    async fn decide_appeal(
        &self,
        moderator: &Principal,
        appeal: AppealId,
        grant: bool,
        note: &str,
    ) -> Result<Appeal>;
    /// The audit log, newest first.
    async fn audit(&self, moderator: &Principal, query: AuditQuery) -> Result<Vec<AuditEntry>>;
    /// Every pre-publish rule.
    async fn rules(&self, moderator: &Principal) -> Result<Vec<Rule>>;
    /// Creates or changes a rule (a new version); every replica reloads.
    async fn save_rule(&self, moderator: &Principal, draft: RuleDraft) -> Result<Rule>;
    /// Every version of a rule, oldest first.
    async fn rule_history(&self, moderator: &Principal, rule: RuleId) -> Result<Vec<Rule>>;

    /// The synchronous pre-publish check (content, chat metadata, profile text, media).
    async fn check(&self, input: CheckInput) -> Result<Verdict>;
    /// Keeps content that a pre-publish rule held out of sight until a moderator reverses
    /// the hold: a `hide` action by the system against `subject` (the author), with
    /// `reason`, audited as `content.held`. For other domains (no caller principal), like
    /// [`check`](Self::check).
    async fn hold(&self, target: Target, subject: UserId, reason: &str) -> Result<Action>;
    /// The actions in force (not reversed, not expired) on any of `targets`, for
    /// enforcement in other domains.
    async fn actions_in_force(&self, targets: &[Target]) -> Result<Vec<Action>>;
}
