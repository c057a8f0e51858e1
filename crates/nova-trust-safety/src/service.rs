//! [`TrustSafetyService`]: the rules and the authorization over the
//! [`TrustSafetyStore`] port, a rate limiter and the compiled pre-publish rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::SubsecRound;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, Timestamp, UserId};
use nova_events::{EventEnvelope, RelayWaker};
use nova_kv::{Quota, RateLimiter};
use nova_proto::nova::trustsafety::v1 as pb;
use prost::Message;
use serde_json::json;

use crate::api::TrustSafetyApi;
use crate::grpc::convert;
use crate::model::{
    Action, ActionId, ActionKind, Appeal, AppealId, AppealStatus, AuditEntry, AuditId, AuditQuery,
    CheckInput, NewAction, NewReport, QueueFilter, QueueItem, Report, ReportId, ReportReason,
    ReportStatus, Rule, RuleBody, RuleDraft, RuleId, RuleOutcome, Strike, Target, TargetKind,
    Verdict,
};
use crate::rules::{self, CompiledRules, Hits};
use crate::store::{QueueRow, ReportRecord, TrustSafetyStore};

/// Event type of a new action.
pub const ACTION_TAKEN: &str = "trust_safety.action_taken";
/// Event type of an undone action (reversal or granted appeal).
pub const ACTION_REVERSED: &str = "trust_safety.action_reversed";
/// Event type of a rule change; every replica calls
/// [`TrustSafetyService::reload_rules`] when it sees one.
pub const RULES_CHANGED: &str = "trust_safety.rules_changed";
/// Event type of a filed report.
pub const REPORT_FILED: &str = "trust_safety.report_filed";

/// The actor of what the system does by itself (holds by pre-publish rules).
pub const SYSTEM: UserId = UserId::from_uuid(uuid::Uuid::nil());
/// A hold's reason when its rule gave none.
const HELD_REASON: &str = "Held for review by a moderator.";

/// Longest report text, appeal text and action reason (characters).
pub const TEXT_MAX: usize = 1_000;
/// Longest moderator note (characters).
const NOTE_MAX: usize = 2_000;
/// Longest evidence text a reporter may share (characters).
const EVIDENCE_MAX: usize = 10_000;
/// Largest text the pre-publish check takes (bytes).
const CHECK_TEXT_MAX: usize = 64 * 1024;
/// Most targets in one enforcement query.
/// Most targets one ActionsInForce call may carry: a page or batch read of posts or
/// accounts (at most 1,000, as the other batch reads).
pub const TARGETS_MAX: usize = 1_000;
/// Most texts the duplicate-spam window remembers before it sweeps.
const DUPLICATES_MAX: usize = 200_000;

/// A staff role granted or revoked in identity, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// The account.
    pub user: UserId,
    /// `moderator` or `admin`.
    pub role: String,
    /// Granted or revoked.
    pub granted: bool,
    /// The admin.
    pub actor: UserId,
    /// Why.
    pub reason: String,
}

/// Tunables of the service.
#[derive(Debug, Clone, Copy)]
pub struct TrustSafetyConfig {
    /// Reports one user may file (default 20 per hour).
    pub report_quota: Quota,
}

impl Default for TrustSafetyConfig {
    fn default() -> Self {
        Self {
            report_quota: Quota::per_hour(20),
        }
    }
}

/// The trust & safety service.
pub struct TrustSafetyService {
    store: Arc<dyn TrustSafetyStore>,
    limiter: Arc<dyn RateLimiter>,
    clock: SharedClock,
    relay: Option<RelayWaker>,
    config: TrustSafetyConfig,
    rules: RwLock<Arc<CompiledRules>>,
    duplicates: Mutex<DuplicateWindow>,
}

/// Whether `p` may moderate.
pub fn is_moderator(p: &Principal) -> bool {
    p.has_scope("moderator") || p.has_scope("admin")
}

/// Non-moderators are told the thing does not exist.
fn moderator(p: &Principal) -> Result<()> {
    if is_moderator(p) {
        Ok(())
    } else {
        Err(Error::not_found())
    }
}

fn admin_only(what: &'static str) -> Error {
    Error::new(ErrorKind::PermissionDenied, what)
}

fn limited_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

fn required_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    limited_text(field, value, max)
}

fn page_limit(limit: u32) -> u32 {
    match limit {
        0 => 50,
        n => n.min(500),
    }
}

impl TrustSafetyService {
    /// A service over `store`, limiting reports with `limiter`. Call
    /// [`reload_rules`](Self::reload_rules) once before checking content.
    pub fn new(store: Arc<dyn TrustSafetyStore>, limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            store,
            limiter,
            clock: SystemClock::shared(),
            relay: None,
            config: TrustSafetyConfig::default(),
            rules: RwLock::new(Arc::new(CompiledRules::default())),
            duplicates: Mutex::new(DuplicateWindow::default()),
        }
    }

    /// Uses `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `config`.
    pub fn with_config(mut self, config: TrustSafetyConfig) -> Self {
        self.config = config;
        self
    }

    /// Wakes the outbox relay after commits with events.
    pub fn with_relay(mut self, relay: RelayWaker) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Audits a staff role change identity made (`identity.role_changed`), once per
    /// event: `event` is its id, so a redelivery appends nothing. Whether it was new.
    pub async fn audit_role_change(
        &self,
        event: uuid::Uuid,
        at: Timestamp,
        change: RoleChange,
    ) -> Result<bool> {
        let entry = AuditEntry {
            id: AuditId::from_uuid(event),
            at,
            actor: Some(change.actor),
            action: if change.granted {
                "role.granted".into()
            } else {
                "role.revoked".into()
            },
            subject: format!("account:{}", change.user),
            reason: change.reason,
            detail: json!({ "role": change.role }).to_string(),
        };
        self.store.append_audit_once(&entry).await
    }

    /// Reads and compiles every rule (at start and on each [`RULES_CHANGED`] event);
    /// returns how many are enabled. On error the previous rules stay in force.
    pub async fn reload_rules(&self) -> Result<usize> {
        let stored = self.store.rules().await?;
        let compiled = CompiledRules::compile(&stored)?;
        let n = compiled.len();
        let mut current = self.rules.write().unwrap_or_else(|p| p.into_inner());
        *current = Arc::new(compiled);
        Ok(n)
    }

    fn compiled(&self) -> Arc<CompiledRules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    fn wake(&self) {
        if let Some(relay) = &self.relay {
            relay.wake();
        }
    }

    fn audit_entry(
        &self,
        actor: Option<UserId>,
        action: &str,
        subject: String,
        reason: &str,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            id: AuditId::new(),
            at: self.now(),
            actor,
            action: action.to_owned(),
            subject,
            reason: reason.to_owned(),
            detail: detail.to_string(),
        }
    }

    fn action_event(&self, event_type: &str, action: &Action) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            action.target.to_string(),
            self.now(),
            pb::ActionChanged {
                action: Some(convert::action(action)),
            }
            .encode_to_vec(),
        )
    }

    async fn queue_row(&self, target: Target) -> Result<QueueRow> {
        self.store
            .queue()
            .await?
            .into_iter()
            .find(|r| r.target == target)
            .ok_or_else(Error::not_found)
    }

    /// A reporter's weight: 1.0 without history, towards 2 when their reports were
    /// actioned, towards 0 when they were dismissed (Laplace-smoothed).
    async fn reporter_trust(&self, reporter: UserId) -> Result<f64> {
        let (actioned, dismissed) = self.store.reporter_history(reporter).await?;
        Ok(2.0 * (actioned as f64 + 1.0) / ((actioned + dismissed) as f64 + 2.0))
    }

    async fn apply_velocity(
        &self,
        compiled: &CompiledRules,
        input: &CheckInput,
        now: Timestamp,
        hits: &mut Hits,
    ) -> Result<()> {
        let (Some(author), Some(created)) = (input.author, input.account_created_at) else {
            return Ok(());
        };
        let age = (now - created).num_seconds();
        for rule in compiled.velocity() {
            if rule.no_links_seconds > 0
                && age < rule.no_links_seconds
                && rules::links::has_link(&input.text)
            {
                hits.add(rule.index);
            }
            if age < rule.new_account_seconds {
                let quota = Quota::new(
                    rule.max_posts,
                    StdDuration::from_secs(u64::try_from(rule.window_seconds).unwrap_or(1)),
                );
                let key = format!("trust_safety:velocity:{}:{author}", rule.id);
                if !self.limiter.check(&key, &quota).await?.allowed {
                    hits.add(rule.index);
                }
            }
        }
        Ok(())
    }

    fn apply_duplicates(
        &self,
        compiled: &CompiledRules,
        input: &CheckInput,
        now: Timestamp,
        hits: &mut Hits,
    ) {
        let (Some(author), false) = (input.author, compiled.duplicate().is_empty()) else {
            return;
        };
        let (key, chars) = rules::duplicate_key(&input.text);
        let longest = compiled
            .duplicate()
            .iter()
            .map(|r| r.window_seconds)
            .max()
            .unwrap_or(0);
        let mut window = self.duplicates.lock().unwrap_or_else(|p| p.into_inner());
        let authors = window.record(key, author, now.timestamp(), longest);
        for rule in compiled.duplicate() {
            if chars < rule.min_chars as usize {
                continue;
            }
            let within = authors
                .iter()
                .filter(|(_, at)| now.timestamp() - at < rule.window_seconds)
                .count();
            if within >= rule.accounts as usize {
                hits.add(rule.index);
            }
        }
    }
}

/// Recent authors of each normalized text, per replica (the window is seconds to
/// minutes; a spam wave that reaches several replicas trips each of them).
#[derive(Default)]
struct DuplicateWindow {
    seen: HashMap<[u8; 16], Vec<(UserId, i64)>>,
}

impl DuplicateWindow {
    /// Records `author` posting `key` at `now` (seconds) and returns the authors seen
    /// within `window` seconds (one entry per author, their latest time).
    fn record(
        &mut self,
        key: [u8; 16],
        author: UserId,
        now: i64,
        window: i64,
    ) -> Vec<(UserId, i64)> {
        if self.seen.len() >= DUPLICATES_MAX {
            self.seen
                .retain(|_, authors| authors.iter().any(|(_, at)| now - at < window));
        }
        let authors = self.seen.entry(key).or_default();
        authors.retain(|(a, at)| *a != author && now - at < window);
        authors.push((author, now));
        authors.clone()
    }
}

#[async_trait]
impl TrustSafetyApi for TrustSafetyService {
    async fn report(&self, reporter: &Principal, new: NewReport) -> Result<Report> {
        limited_text("text", &new.text, TEXT_MAX)?;
        if new.reason == ReportReason::Other && new.text.trim().is_empty() {
            return Err(Error::invalid(
                "text",
                "is required when the reason is other",
            ));
        }
        if new.target == Target::account(reporter.user_id) {
            return Err(Error::invalid(
                "target",
                "cannot be the reporter's own account",
            ));
        }
        if let Some(e) = &new.evidence {
            if new.target.kind != TargetKind::ChatMessage {
                return Err(Error::invalid(
                    "evidence",
                    "is only for chat_message targets",
                ));
            }
            if let Some(id) = &e.ciphertext_id {
                required_text("evidence.ciphertext_id", id, 200)?;
            }
            if let Some(text) = &e.shared_text {
                limited_text("evidence.shared_text", text, EVIDENCE_MAX)?;
            }
        }
        let user = reporter.user_id;
        if let Some(existing) = self.store.report_by(user, new.target).await? {
            return Ok(existing);
        }
        let decision = self
            .limiter
            .check(
                &format!("trust_safety:report:{user}"),
                &self.config.report_quota,
            )
            .await?;
        if !decision.allowed {
            return Err(Error::new(
                ErrorKind::RateLimited,
                "too many reports; try again later",
            ));
        }
        let report = Report {
            id: ReportId::new(),
            reporter: user,
            target: new.target,
            reason: new.reason,
            text: new.text,
            // Only what the reporter chose to share is kept.
            evidence: new.evidence,
            status: ReportStatus::Open,
            outcome: None,
            created_at: self.now(),
            resolved_at: None,
        };
        let record = ReportRecord {
            severity: report.reason.severity(),
            reporter_trust: self.reporter_trust(user).await?,
            report,
        };
        let audit = self.audit_entry(
            Some(user),
            "report.created",
            record.report.target.to_string(),
            record.report.reason.as_str(),
            json!({ "report_id": record.report.id, "text": record.report.text }),
        );
        let event = EventEnvelope::new(
            REPORT_FILED,
            record.report.target.to_string(),
            self.now(),
            pb::ReportFiled {
                report_id: record.report.id.to_string(),
                target_kind: record.report.target.kind.as_str().into(),
                target_id: record.report.target.id.to_string(),
                reason: record.report.reason.as_str().into(),
            }
            .encode_to_vec(),
        );
        if self
            .store
            .insert_report(&record, &[audit], &[event])
            .await?
        {
            metrics::counter!("nova_trust_safety_reports_total", "reason" => record.report.reason.as_str())
                .increment(1);
            self.wake();
            Ok(record.report)
        } else {
            // A concurrent duplicate won the race: answer with it.
            self.store
                .report_by(user, record.report.target)
                .await?
                .ok_or_else(|| Error::internal("report vanished after a conflict"))
        }
    }

    async fn my_reports(&self, reporter: &Principal) -> Result<Vec<Report>> {
        self.store.reports_by(reporter.user_id, 200).await
    }

    async fn strikes(&self, user: &Principal) -> Result<Vec<Strike>> {
        let actions = self.store.actions_against(user.user_id).await?;
        let ids: Vec<ActionId> = actions.iter().map(|a| a.id).collect();
        let mut appeals: HashMap<ActionId, Appeal> = self
            .store
            .appeals_of(&ids)
            .await?
            .into_iter()
            .map(|a| (a.action_id, a))
            .collect();
        Ok(actions
            .into_iter()
            .map(|mut action| {
                // The note is for moderators only.
                action.note.clear();
                Strike {
                    appeal: appeals.remove(&action.id),
                    action,
                }
            })
            .collect())
    }

    async fn appeal(&self, user: &Principal, action_id: ActionId, text: &str) -> Result<Appeal> {
        required_text("text", text, TEXT_MAX)?;
        let action = self
            .store
            .action(action_id)
            .await?
            .filter(|a| a.subject == Some(user.user_id))
            .ok_or_else(Error::not_found)?;
        if action.reversed_at.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "action_id: the action was already reversed",
            ));
        }
        let appeal = Appeal {
            id: AppealId::new(),
            action_id,
            appellant: user.user_id,
            text: text.to_owned(),
            status: AppealStatus::Pending,
            decided_by: None,
            decision_note: None,
            created_at: self.now(),
            decided_at: None,
        };
        let audit = self.audit_entry(
            Some(user.user_id),
            "appeal.filed",
            action.target.to_string(),
            text,
            json!({ "appeal_id": appeal.id, "action_id": action_id }),
        );
        self.store.insert_appeal(&appeal, &[audit]).await?;
        Ok(appeal)
    }

    async fn queue(
        &self,
        moderator_p: &Principal,
        filter: QueueFilter,
        limit: u32,
    ) -> Result<Vec<QueueItem>> {
        moderator(moderator_p)?;
        let admin = moderator_p.has_scope("admin");
        if filter == QueueFilter::Escalated && !admin {
            return Err(admin_only("escalated items are for admins"));
        }
        let now = self.now();
        let rows = self.store.queue().await?;
        metrics::gauge!("nova_trust_safety_queue_size").set(rows.len() as f64);
        let mut items: Vec<QueueItem> = rows
            .into_iter()
            .filter(|r| match filter {
                QueueFilter::All => admin || !r.escalated,
                QueueFilter::Mine => r.assignee == Some(moderator_p.user_id),
                QueueFilter::Escalated => r.escalated,
            })
            .map(|r| {
                let top_reason = ReportReason::ALL
                    .iter()
                    .copied()
                    .filter(|reason| reason.severity() == r.max_severity)
                    .min()
                    .unwrap_or(ReportReason::Other);
                QueueItem {
                    target: r.target,
                    report_count: r.report_count,
                    top_reason,
                    // severity × count × mean reporter trust
                    priority: f64::from(r.max_severity) * r.trust_sum,
                    oldest_report_at: r.oldest,
                    age_seconds: (now - r.oldest).num_seconds().max(0),
                    assignee: r.assignee,
                    escalated: r.escalated,
                }
            })
            .collect();
        items.sort_by(|a, b| {
            b.priority
                .total_cmp(&a.priority)
                .then(a.oldest_report_at.cmp(&b.oldest_report_at))
        });
        items.truncate(page_limit(limit) as usize);
        Ok(items)
    }

    async fn target_reports(&self, moderator_p: &Principal, target: Target) -> Result<Vec<Report>> {
        moderator(moderator_p)?;
        self.store.open_reports(target).await
    }

    async fn assign(
        &self,
        moderator_p: &Principal,
        target: Target,
        assignee: Option<UserId>,
    ) -> Result<()> {
        moderator(moderator_p)?;
        let row = self.queue_row(target).await?;
        if row.escalated && !moderator_p.has_scope("admin") {
            return Err(admin_only("escalated items are for admins"));
        }
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "queue.assigned",
            target.to_string(),
            "",
            json!({ "assignee": assignee }),
        );
        self.store
            .set_queue_state(target, assignee, row.escalated, "", self.now(), &[audit])
            .await
    }

    async fn escalate(&self, moderator_p: &Principal, target: Target, note: &str) -> Result<()> {
        moderator(moderator_p)?;
        limited_text("note", note, NOTE_MAX)?;
        self.queue_row(target).await?;
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "queue.escalated",
            target.to_string(),
            note,
            json!({}),
        );
        self.store
            .set_queue_state(target, None, true, note, self.now(), &[audit])
            .await
    }

    async fn dismiss(&self, moderator_p: &Principal, target: Target, note: &str) -> Result<u64> {
        moderator(moderator_p)?;
        limited_text("note", note, NOTE_MAX)?;
        let row = self.queue_row(target).await?;
        if row.escalated && !moderator_p.has_scope("admin") {
            return Err(admin_only("escalated items are for admins"));
        }
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "reports.dismissed",
            target.to_string(),
            note,
            json!({ "reports": row.report_count }),
        );
        let n = self
            .store
            .dismiss_reports(target, "no_action", self.now(), &[audit], &[])
            .await?;
        if n == 0 {
            return Err(Error::not_found());
        }
        Ok(n)
    }

    async fn take_action(&self, moderator_p: &Principal, new: NewAction) -> Result<Action> {
        moderator(moderator_p)?;
        required_text("reason", &new.reason, TEXT_MAX)?;
        limited_text("note", &new.note, NOTE_MAX)?;
        let on_account = new.target.kind == TargetKind::Account;
        if new.kind.on_account() != on_account {
            return Err(Error::invalid(
                "kind",
                if on_account {
                    "accounts take silence, suspend or delete"
                } else {
                    "content takes label, reduce_reach, hide or remove"
                },
            ));
        }
        if (new.kind == ActionKind::Label) != new.label.is_some() {
            return Err(Error::invalid(
                "label",
                "is required for label actions and only for them",
            ));
        }
        let now = self.now();
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let subject = if on_account {
            let account = UserId::from_uuid(new.target.id);
            if new.subject.is_some_and(|s| s != account) {
                return Err(Error::invalid("subject", "must be the target account"));
            }
            Some(account)
        } else {
            new.subject
        };
        if new.kind == ActionKind::Delete && !moderator_p.has_scope("admin") {
            return Err(admin_only("deleting an account needs an admin"));
        }
        if let Ok(row) = self.queue_row(new.target).await
            && row.escalated
            && !moderator_p.has_scope("admin")
        {
            return Err(admin_only("escalated items are for admins"));
        }
        let action = Action {
            id: ActionId::new(),
            target: new.target,
            subject,
            kind: new.kind,
            label: new.label,
            reason: new.reason,
            note: new.note,
            actor: moderator_p.user_id,
            created_at: now,
            expires_at: new.expires_at,
            reversed_at: None,
        };
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "action.taken",
            action.target.to_string(),
            &action.reason,
            json!({
                "action_id": action.id, "kind": action.kind, "label": action.label,
                "subject": action.subject, "expires_at": action.expires_at, "note": action.note,
            }),
        );
        let event = self.action_event(ACTION_TAKEN, &action);
        let outcome = format!("actioned:{}", action.kind);
        self.store
            .insert_action(&action, &outcome, &[audit], &[event])
            .await?;
        metrics::counter!("nova_trust_safety_actions_total", "kind" => action.kind.as_str())
            .increment(1);
        self.wake();
        Ok(action)
    }

    async fn reverse_action(
        &self,
        moderator_p: &Principal,
        action_id: ActionId,
        note: &str,
    ) -> Result<Action> {
        moderator(moderator_p)?;
        required_text("note", note, NOTE_MAX)?;
        let mut action = self
            .store
            .action(action_id)
            .await?
            .ok_or_else(Error::not_found)?;
        if action.reversed_at.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "action_id: the action was already reversed",
            ));
        }
        let now = self.now();
        action.reversed_at = Some(now);
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "action.reversed",
            action.target.to_string(),
            note,
            json!({ "action_id": action.id }),
        );
        let event = self.action_event(ACTION_REVERSED, &action);
        if !self
            .store
            .reverse_action(
                action_id,
                moderator_p.user_id,
                note,
                now,
                &[audit],
                &[event],
            )
            .await?
        {
            return Err(Error::new(
                ErrorKind::Conflict,
                "action_id: the action was already reversed",
            ));
        }
        self.wake();
        Ok(action)
    }

    async fn pending_appeals(&self, moderator_p: &Principal, limit: u32) -> Result<Vec<Appeal>> {
        moderator(moderator_p)?;
        self.store.pending_appeals(page_limit(limit)).await
    }

    async fn decide_appeal(
        &self,
        moderator_p: &Principal,
        appeal_id: AppealId,
        grant: bool,
        note: &str,
    ) -> Result<Appeal> {
        moderator(moderator_p)?;
        required_text("note", note, NOTE_MAX)?;
        let mut appeal = self
            .store
            .appeal(appeal_id)
            .await?
            .ok_or_else(Error::not_found)?;
        if appeal.status != AppealStatus::Pending {
            return Err(Error::new(
                ErrorKind::Conflict,
                "appeal_id: the appeal was already decided",
            ));
        }
        let mut action = self
            .store
            .action(appeal.action_id)
            .await?
            .ok_or_else(|| Error::internal("appeal without its action"))?;
        if action.actor == moderator_p.user_id || appeal.appellant == moderator_p.user_id {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "a different moderator must decide this appeal",
            ));
        }
        let now = self.now();
        appeal.status = if grant {
            AppealStatus::Granted
        } else {
            AppealStatus::Denied
        };
        appeal.decided_by = Some(moderator_p.user_id);
        appeal.decision_note = Some(note.to_owned());
        appeal.decided_at = Some(now);
        let reverse = grant && action.reversed_at.is_none();
        let mut audit = vec![self.audit_entry(
            Some(moderator_p.user_id),
            "appeal.decided",
            action.target.to_string(),
            note,
            json!({ "appeal_id": appeal.id, "action_id": action.id, "status": appeal.status }),
        )];
        let mut events = Vec::new();
        if reverse {
            action.reversed_at = Some(now);
            audit.push(self.audit_entry(
                Some(moderator_p.user_id),
                "action.reversed",
                action.target.to_string(),
                "appeal granted",
                json!({ "action_id": action.id, "appeal_id": appeal.id }),
            ));
            events.push(self.action_event(ACTION_REVERSED, &action));
        }
        if !self
            .store
            .decide_appeal(&appeal, reverse, &audit, &events)
            .await?
        {
            return Err(Error::new(
                ErrorKind::Conflict,
                "appeal_id: the appeal was already decided",
            ));
        }
        self.wake();
        Ok(appeal)
    }

    async fn audit(&self, moderator_p: &Principal, query: AuditQuery) -> Result<Vec<AuditEntry>> {
        moderator(moderator_p)?;
        if let Some(s) = &query.subject {
            limited_text("subject", s, 200)?;
        }
        let limit = page_limit(query.limit.unwrap_or(0));
        self.store.audit(&query, limit).await
    }

    async fn rules(&self, moderator_p: &Principal) -> Result<Vec<Rule>> {
        moderator(moderator_p)?;
        self.store.rules().await
    }

    async fn save_rule(&self, moderator_p: &Principal, draft: RuleDraft) -> Result<Rule> {
        moderator(moderator_p)?;
        required_text("name", &draft.name, 100)?;
        limited_text("public_reason", &draft.public_reason, 280)?;
        if draft.outcome == RuleOutcome::Reject && draft.public_reason.trim().is_empty() {
            return Err(Error::invalid(
                "public_reason",
                "is required for rules that reject",
            ));
        }
        if draft.outcome == RuleOutcome::Allow && !matches!(draft.body, RuleBody::Domains { .. }) {
            return Err(Error::invalid("outcome", "allow is only for domain rules"));
        }
        rules::validate(&draft.body)?;
        let previous = match draft.id {
            Some(id) => Some(self.store.rule(id).await?.ok_or_else(Error::not_found)?),
            None => None,
        };
        let rule = Rule {
            id: draft.id.unwrap_or_default(),
            version: previous.as_ref().map_or(1, |p| p.version + 1),
            name: draft.name,
            body: draft.body,
            outcome: draft.outcome,
            public_reason: draft.public_reason,
            enabled: draft.enabled,
            updated_by: moderator_p.user_id,
            updated_at: self.now(),
        };
        // The whole set must still compile (the regex set has a total size limit).
        let mut all = self.store.rules().await?;
        all.retain(|r| r.id != rule.id);
        all.push(rule.clone());
        CompiledRules::compile(&all)?;
        let audit = self.audit_entry(
            Some(moderator_p.user_id),
            "rule.changed",
            format!("rule:{}", rule.id),
            &rule.name,
            json!({
                "version": rule.version, "kind": rule.body.kind(), "outcome": rule.outcome.code(),
                "enabled": rule.enabled,
            }),
        );
        let event = EventEnvelope::new(
            RULES_CHANGED,
            rule.id.to_string(),
            self.now(),
            pb::RulesChanged {
                rule_id: rule.id.to_string(),
                version: rule.version,
            }
            .encode_to_vec(),
        );
        self.store
            .save_rule(
                &rule,
                previous.as_ref().map(|p| p.version),
                &[audit],
                &[event],
            )
            .await?;
        self.wake();
        self.reload_rules().await?;
        Ok(rule)
    }

    async fn rule_history(&self, moderator_p: &Principal, rule: RuleId) -> Result<Vec<Rule>> {
        moderator(moderator_p)?;
        let history = self.store.rule_history(rule).await?;
        if history.is_empty() {
            return Err(Error::not_found());
        }
        Ok(history)
    }

    async fn check(&self, input: CheckInput) -> Result<Verdict> {
        if input.text.len() > CHECK_TEXT_MAX {
            return Err(Error::invalid("text", "must be at most 64 KiB"));
        }
        if input.media_hashes.len() > 64 {
            return Err(Error::invalid("media_hashes", "must be at most 64 hashes"));
        }
        let compiled = self.compiled();
        if compiled.is_empty() {
            return Ok(Verdict::allow());
        }
        let now = self.now();
        let mut hits = Hits::default();
        compiled.match_content(&input.text, &input.media_hashes, &mut hits);
        self.apply_velocity(&compiled, &input, now, &mut hits)
            .await?;
        self.apply_duplicates(&compiled, &input, now, &mut hits);
        Ok(compiled.verdict(&hits))
    }

    async fn hold(&self, target: Target, subject: UserId, reason: &str) -> Result<Action> {
        if target.kind == TargetKind::Account {
            return Err(Error::invalid("target.kind", "only content is held"));
        }
        limited_text("reason", reason, TEXT_MAX)?;
        let reason = match reason.trim() {
            "" => HELD_REASON.to_owned(),
            r => r.to_owned(),
        };
        let action = Action {
            id: ActionId::new(),
            target,
            subject: Some(subject),
            kind: ActionKind::Hide,
            label: None,
            reason,
            note: "held by a pre-publish rule".to_owned(),
            actor: SYSTEM,
            created_at: self.now(),
            expires_at: None,
            reversed_at: None,
        };
        let audit = self.audit_entry(
            None,
            "content.held",
            action.target.to_string(),
            &action.reason,
            json!({ "action_id": action.id, "subject": subject }),
        );
        let event = self.action_event(ACTION_TAKEN, &action);
        self.store
            .insert_action(&action, "actioned:hide", &[audit], &[event])
            .await?;
        metrics::counter!("nova_trust_safety_actions_total", "kind" => "hold").increment(1);
        self.wake();
        Ok(action)
    }

    async fn actions_in_force(&self, targets: &[Target]) -> Result<Vec<Action>> {
        nova_core::error::cap("targets", targets.len(), TARGETS_MAX)?;
        let now = self.now();
        let mut actions = self.store.unreversed_actions(targets).await?;
        actions.retain(|a| a.in_force(now));
        for a in &mut actions {
            a.note.clear();
        }
        Ok(actions)
    }
}
