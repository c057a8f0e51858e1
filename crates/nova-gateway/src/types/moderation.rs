//! Trust & safety: `report` and `appeal` for users, `viewer.strikes`, and the
//! `moderation` namespace (queue, actions, appeals, audit, rules) for moderators. A
//! caller without the moderator role gets `NOT_FOUND` from `moderation`, as for a field
//! that does not exist; the trust & safety service checks the role again on every call.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use nova_core::{Error, Principal, Timestamp, UserId};
use nova_trust_safety::{
    Action, ActionId, ActionKind, AppealId, AuditEntry, AuditQuery, ContentLabel, NewAction,
    QueueFilter, QueueItem, Report, Rule, RuleDraft, Strike, Target, TrustSafetyApi, is_moderator,
};

use super::parse_id;
use crate::context::caller;
use crate::error::{GqlResult, IntoGql};

/// The trust & safety domain, or `UNAVAILABLE` where it is not served.
pub(crate) fn trust_safety_api(ctx: &Context<'_>) -> GqlResult<Arc<dyn TrustSafetyApi>> {
    caller(ctx)?
        .domains
        .trust_safety
        .clone()
        .ok_or_else(|| Error::unavailable("moderation is not served here"))
        .gql()
}

/// A report as its reporter sees it.
#[derive(SimpleObject)]
pub(crate) struct ModerationReport {
    /// The report.
    pub id: ID,
    /// `post`, `account`, `media` or `chat_message`.
    pub target_kind: String,
    /// The reported thing's id.
    pub target_id: ID,
    /// The reason code (`spam`, `harassment`, ...).
    pub reason: String,
    /// `open`, `actioned` or `dismissed`.
    pub status: String,
    /// What came of it (e.g. `actioned:remove`, `no_action`).
    pub outcome: Option<String>,
    /// Filed.
    pub created_at: Timestamp,
}

impl From<Report> for ModerationReport {
    fn from(r: Report) -> Self {
        Self {
            id: ID(r.id.to_string()),
            target_kind: r.target.kind.as_str().to_owned(),
            target_id: ID(r.target.id.to_string()),
            reason: r.reason.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            outcome: r.outcome,
            created_at: r.created_at,
        }
    }
}

/// A moderation action. Its subject sees it (as a strike) without the moderators' note
/// and without who took it.
#[derive(SimpleObject)]
pub(crate) struct ModerationAction {
    /// The action.
    pub id: ID,
    /// What it applies to: `post`, `account`, `media` or `chat_message`.
    pub target_kind: String,
    /// Its id.
    pub target_id: ID,
    /// `label`, `reduce_reach`, `hide`, `remove`, `silence`, `suspend` or `delete`.
    pub kind: String,
    /// The label of a `label` action.
    pub label: Option<String>,
    /// Why (shown to the subject).
    pub reason: String,
    /// The moderators' note (moderators only).
    pub note: Option<String>,
    /// The moderator who took it (moderators only).
    pub actor_id: Option<ID>,
    /// When.
    pub created_at: Timestamp,
    /// When it lapses by itself.
    pub expires_at: Option<Timestamp>,
    /// When it was undone.
    pub reversed_at: Option<Timestamp>,
}

impl ModerationAction {
    fn new(a: Action, for_moderators: bool) -> Self {
        Self {
            id: ID(a.id.to_string()),
            target_kind: a.target.kind.as_str().to_owned(),
            target_id: ID(a.target.id.to_string()),
            kind: a.kind.as_str().to_owned(),
            label: a.label.map(|l| l.as_str().to_owned()),
            reason: a.reason,
            note: for_moderators.then_some(a.note),
            actor_id: for_moderators.then(|| ID(a.actor.to_string())),
            created_at: a.created_at,
            expires_at: a.expires_at,
            reversed_at: a.reversed_at,
        }
    }
}

/// An appeal against an action.
#[derive(SimpleObject)]
pub(crate) struct ModerationAppeal {
    /// The appeal.
    pub id: ID,
    /// The action appealed.
    pub action_id: ID,
    /// Who appeals.
    pub appellant_id: ID,
    /// Their text.
    pub text: String,
    /// `pending`, `granted` or `denied`.
    pub status: String,
    /// The deciding moderator's note.
    pub decision_note: Option<String>,
    /// Filed.
    pub created_at: Timestamp,
    /// Decided.
    pub decided_at: Option<Timestamp>,
}

impl From<nova_trust_safety::Appeal> for ModerationAppeal {
    fn from(a: nova_trust_safety::Appeal) -> Self {
        Self {
            id: ID(a.id.to_string()),
            action_id: ID(a.action_id.to_string()),
            appellant_id: ID(a.appellant.to_string()),
            text: a.text,
            status: a.status.as_str().to_owned(),
            decision_note: a.decision_note,
            created_at: a.created_at,
            decided_at: a.decided_at,
        }
    }
}

/// An action against the caller, with its reason and any appeal.
#[derive(SimpleObject)]
pub(crate) struct ModerationStrike {
    /// The action (without the moderators' note and name).
    pub action: ModerationAction,
    /// The caller's appeal, if any.
    pub appeal: Option<ModerationAppeal>,
}

impl From<Strike> for ModerationStrike {
    fn from(s: Strike) -> Self {
        Self {
            action: ModerationAction::new(s.action, false),
            appeal: s.appeal.map(Into::into),
        }
    }
}

/// One target in the moderation queue.
#[derive(SimpleObject)]
pub(crate) struct ModerationQueueItem {
    /// What is reported.
    pub target_kind: String,
    /// Its id.
    pub target_id: ID,
    /// Open reports on it.
    pub report_count: i64,
    /// The most severe reason.
    pub top_reason: String,
    /// Severity × count × reporter trust.
    pub priority: f64,
    /// Seconds since the oldest open report (the SLA clock).
    pub age_seconds: i64,
    /// The moderator working on it.
    pub assignee_id: Option<ID>,
    /// Waiting for an admin.
    pub escalated: bool,
}

impl From<QueueItem> for ModerationQueueItem {
    fn from(q: QueueItem) -> Self {
        Self {
            target_kind: q.target.kind.as_str().to_owned(),
            target_id: ID(q.target.id.to_string()),
            report_count: q.report_count,
            top_reason: q.top_reason.as_str().to_owned(),
            priority: q.priority,
            age_seconds: q.age_seconds,
            assignee_id: q.assignee.map(|a| ID(a.to_string())),
            escalated: q.escalated,
        }
    }
}

/// One audit log entry: who, when, what, why.
#[derive(SimpleObject)]
pub(crate) struct ModerationAuditEntry {
    /// The entry.
    pub id: ID,
    /// When.
    pub at: Timestamp,
    /// Who (none: the system).
    pub actor_id: Option<ID>,
    /// What happened (`action.taken`, `appeal.decided`, `role.granted`, ...).
    pub action: String,
    /// What it was about (`post:<id>`, `action:<id>`, ...).
    pub subject: String,
    /// Why.
    pub reason: String,
    /// Details (JSON).
    pub detail: String,
}

impl From<AuditEntry> for ModerationAuditEntry {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: ID(e.id.to_string()),
            at: e.at,
            actor_id: e.actor.map(|a| ID(a.to_string())),
            action: e.action,
            subject: e.subject,
            reason: e.reason,
            detail: e.detail,
        }
    }
}

/// A pre-publish rule.
#[derive(SimpleObject)]
pub(crate) struct ModerationRule {
    /// The rule.
    pub id: ID,
    /// Its version.
    pub version: i32,
    /// Its name.
    pub name: String,
    /// `keywords`, `regex`, `domains`, `velocity`, `duplicate` or `media_hashes`.
    pub kind: String,
    /// What it looks for and does, as JSON (the REST `RuleDraft` shape).
    pub definition: String,
    /// `allow`, `hold`, `reject` or `label:<label>`.
    pub outcome: String,
    /// The reason the author is shown.
    pub public_reason: String,
    /// Applied or not.
    pub enabled: bool,
    /// Last changed.
    pub updated_at: Timestamp,
}

impl From<Rule> for ModerationRule {
    fn from(r: Rule) -> Self {
        Self {
            id: ID(r.id.to_string()),
            version: r.version,
            name: r.name,
            kind: r.body.kind().to_owned(),
            definition: serde_json::to_string(&r.body).unwrap_or_default(),
            outcome: r.outcome.code(),
            public_reason: r.public_reason,
            enabled: r.enabled,
            updated_at: r.updated_at,
        }
    }
}

/// A report to file.
#[derive(InputObject)]
pub(crate) struct ReportInput {
    /// `post`, `account`, `media` or `chat_message`.
    pub target_kind: String,
    /// The reported thing's id.
    pub target_id: ID,
    /// `spam`, `harassment`, `hate`, `violence`, `sexual_minors`, `self_harm`,
    /// `impersonation`, `illegal` or `other`.
    pub reason: String,
    /// Free text (at most 1,000 characters).
    pub text: Option<String>,
    /// For an end-to-end encrypted message: the id of the ciphertext the reporter
    /// decrypted ...
    pub ciphertext_id: Option<String>,
    /// ... and the text they choose to share (only this is kept).
    pub shared_text: Option<String>,
}

/// An action to take.
#[derive(InputObject)]
pub(crate) struct ActionInput {
    /// `post`, `account`, `media` or `chat_message`.
    pub target_kind: String,
    /// Its id.
    pub target_id: ID,
    /// `label`, `reduce_reach`, `hide`, `remove`, `silence`, `suspend` or `delete`.
    pub kind: String,
    /// `sensitive`, `spoiler` or `misleading` (label actions only).
    pub label: Option<String>,
    /// The account that gets the strike (the author, for content).
    pub subject_id: Option<ID>,
    /// Why (shown to the subject).
    pub reason: String,
    /// For other moderators.
    pub note: Option<String>,
    /// When it lapses by itself.
    pub expires_at: Option<Timestamp>,
}

fn target(kind: &str, id: &ID) -> GqlResult<Target> {
    Target::parse(kind, id.as_str()).gql()
}

/// Files a report (`report` mutation).
pub(crate) async fn file_report(
    ctx: &Context<'_>,
    input: ReportInput,
) -> GqlResult<ModerationReport> {
    let p = caller(ctx)?.require()?;
    let evidence = match (input.ciphertext_id, input.shared_text) {
        (None, None) => None,
        (ciphertext_id, shared_text) => Some(nova_trust_safety::Evidence {
            ciphertext_id,
            shared_text,
        }),
    };
    let report = nova_trust_safety::NewReport {
        target: target(&input.target_kind, &input.target_id)?,
        reason: nova_trust_safety::ReportReason::parse(&input.reason, "reason").gql()?,
        text: input.text.unwrap_or_default(),
        evidence,
    };
    Ok(trust_safety_api(ctx)?.report(p, report).await.gql()?.into())
}

/// Appeals an action against the caller (`appeal` mutation).
pub(crate) async fn file_appeal(
    ctx: &Context<'_>,
    action_id: ID,
    text: String,
) -> GqlResult<ModerationAppeal> {
    let p = caller(ctx)?.require()?;
    let action: ActionId = parse_id(&action_id, "actionId")?;
    Ok(trust_safety_api(ctx)?
        .appeal(p, action, &text)
        .await
        .gql()?
        .into())
}

/// The caller's strikes (`viewer.strikes`).
pub(crate) async fn strikes(ctx: &Context<'_>, p: &Principal) -> GqlResult<Vec<ModerationStrike>> {
    let strikes = trust_safety_api(ctx)?.strikes(p).await.gql()?;
    Ok(strikes.into_iter().map(Into::into).collect())
}

/// The moderator behind the request; anyone else: `NOT_FOUND`.
pub(crate) fn moderator(ctx: &Context<'_>) -> GqlResult<Principal> {
    match caller(ctx)?.principal.as_ref() {
        Some(p) if is_moderator(p) => Ok(p.clone()),
        _ => Err(Error::not_found()).gql(),
    }
}

/// Moderation reads (moderators only).
pub(crate) struct ModerationQuery(pub Principal);

#[Object]
impl ModerationQuery {
    /// Targets with open reports, highest priority first. `filter`: `all`, `mine`
    /// (assigned to the caller) or `escalated` (admins).
    async fn queue(
        &self,
        ctx: &Context<'_>,
        filter: Option<String>,
        #[graphql(default = 50)] limit: u32,
    ) -> GqlResult<Vec<ModerationQueueItem>> {
        let filter = match filter.as_deref() {
            None | Some("all") => QueueFilter::All,
            Some("mine") => QueueFilter::Mine,
            Some("escalated") => QueueFilter::Escalated,
            Some(_) => {
                return Err(Error::invalid("filter", "must be all, mine or escalated")).gql();
            }
        };
        let items = trust_safety_api(ctx)?
            .queue(&self.0, filter, limit)
            .await
            .gql()?;
        Ok(items.into_iter().map(Into::into).collect())
    }

    /// The open reports on one target.
    async fn reports(
        &self,
        ctx: &Context<'_>,
        target_kind: String,
        target_id: ID,
    ) -> GqlResult<Vec<ModerationReport>> {
        let reports = trust_safety_api(ctx)?
            .target_reports(&self.0, target(&target_kind, &target_id)?)
            .await
            .gql()?;
        Ok(reports.into_iter().map(Into::into).collect())
    }

    /// Pending appeals, oldest first.
    async fn appeals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] limit: u32,
    ) -> GqlResult<Vec<ModerationAppeal>> {
        let appeals = trust_safety_api(ctx)?
            .pending_appeals(&self.0, limit)
            .await
            .gql()?;
        Ok(appeals.into_iter().map(Into::into).collect())
    }

    /// The audit log, newest first (`subject`: only entries about it, e.g.
    /// `action:<id>`).
    async fn audit(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        #[graphql(default = 50)] limit: u32,
    ) -> GqlResult<Vec<ModerationAuditEntry>> {
        let entries = trust_safety_api(ctx)?
            .audit(
                &self.0,
                AuditQuery {
                    subject,
                    before: None,
                    limit: Some(limit),
                },
            )
            .await
            .gql()?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// Every pre-publish rule.
    async fn rules(&self, ctx: &Context<'_>) -> GqlResult<Vec<ModerationRule>> {
        let rules = trust_safety_api(ctx)?.rules(&self.0).await.gql()?;
        Ok(rules.into_iter().map(Into::into).collect())
    }
}

/// Moderation writes (moderators only).
pub(crate) struct ModerationMutation(pub Principal);

#[Object]
impl ModerationMutation {
    /// Takes an action; it closes the target's open reports.
    async fn act(&self, ctx: &Context<'_>, input: ActionInput) -> GqlResult<ModerationAction> {
        let action = NewAction {
            target: target(&input.target_kind, &input.target_id)?,
            kind: ActionKind::parse(&input.kind, "kind").gql()?,
            label: input
                .label
                .as_deref()
                .map(|l| ContentLabel::parse(l, "label"))
                .transpose()
                .gql()?,
            subject: input
                .subject_id
                .as_ref()
                .map(|s| parse_id::<UserId>(s, "subjectId"))
                .transpose()?,
            reason: input.reason,
            note: input.note.unwrap_or_default(),
            expires_at: input.expires_at,
        };
        let action = trust_safety_api(ctx)?
            .take_action(&self.0, action)
            .await
            .gql()?;
        Ok(ModerationAction::new(action, true))
    }

    /// Undoes an action.
    async fn reverse(
        &self,
        ctx: &Context<'_>,
        action_id: ID,
        note: Option<String>,
    ) -> GqlResult<ModerationAction> {
        let id: ActionId = parse_id(&action_id, "actionId")?;
        let action = trust_safety_api(ctx)?
            .reverse_action(&self.0, id, note.as_deref().unwrap_or_default())
            .await
            .gql()?;
        Ok(ModerationAction::new(action, true))
    }

    /// Decides an appeal (not by the moderator who acted); granting reverses the action.
    async fn decide_appeal(
        &self,
        ctx: &Context<'_>,
        appeal_id: ID,
        grant: bool,
        note: Option<String>,
    ) -> GqlResult<ModerationAppeal> {
        let id: AppealId = parse_id(&appeal_id, "appealId")?;
        Ok(trust_safety_api(ctx)?
            .decide_appeal(&self.0, id, grant, note.as_deref().unwrap_or_default())
            .await
            .gql()?
            .into())
    }

    /// Creates or changes a rule: `draft` is the REST `RuleDraft` as JSON (`name`,
    /// `body`, `outcome`, `public_reason`, `enabled`, `id` to change one).
    async fn save_rule(&self, ctx: &Context<'_>, draft: String) -> GqlResult<ModerationRule> {
        let draft: RuleDraft = serde_json::from_str(&draft)
            .map_err(|e| Error::invalid("draft", format!("is not a rule: {e}")))
            .gql()?;
        Ok(trust_safety_api(ctx)?
            .save_rule(&self.0, draft)
            .await
            .gql()?
            .into())
    }
}
