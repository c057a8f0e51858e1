//! Domain types ⇄ `nova.trustsafety.v1` messages (also the payloads of the events).

use nova_core::{Error, Result, Timestamp, UserId};
use nova_proto::nova::trustsafety::v1 as pb;

use crate::model::{
    Action, ActionKind, Appeal, AppealStatus, AuditEntry, CheckInput, ContentLabel, Evidence,
    NewAction, NewReport, QueueFilter, QueueItem, Report, ReportReason, ReportStatus, Rule,
    RuleBody, RuleDraft, RuleOutcome, Strike, Surface, Target, Verdict, VerdictKind,
};

pub(crate) fn timestamp(t: Timestamp) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

fn opt_timestamp(t: Option<Timestamp>) -> Option<prost_types::Timestamp> {
    t.and_then(timestamp)
}

pub(crate) fn timestamp_from(
    t: Option<prost_types::Timestamp>,
    field: &str,
) -> Result<Option<Timestamp>> {
    t.map(|t| {
        chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
            .ok_or_else(|| Error::invalid(field, "is not a valid time"))
    })
    .transpose()
}

fn required_timestamp(t: Option<prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    timestamp_from(t, field)?.ok_or_else(|| Error::invalid(field, "is missing"))
}

fn id_text(id: Option<impl ToString>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// A required id.
pub(crate) fn id_arg<T: std::str::FromStr<Err = Error>>(value: &str, field: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be a UUID"))
}

/// An optional id (empty: none).
pub(crate) fn opt_id_arg<T: std::str::FromStr<Err = Error>>(
    value: &str,
    field: &str,
) -> Result<Option<T>> {
    if value.is_empty() {
        Ok(None)
    } else {
        id_arg(value, field).map(Some)
    }
}

pub(crate) fn target(t: &Target) -> pb::Target {
    pb::Target {
        kind: t.kind.as_str().into(),
        id: t.id.to_string(),
    }
}

pub(crate) fn target_from(t: Option<pb::Target>) -> Result<Target> {
    let t = t.ok_or_else(|| Error::invalid("target", "is missing"))?;
    Target::parse(&t.kind, &t.id)
}

fn evidence(e: &Evidence) -> pb::Evidence {
    pb::Evidence {
        ciphertext_id: e.ciphertext_id.clone().unwrap_or_default(),
        shared_text: e.shared_text.clone().unwrap_or_default(),
        has_ciphertext_id: e.ciphertext_id.is_some(),
        has_shared_text: e.shared_text.is_some(),
    }
}

fn evidence_from(e: pb::Evidence) -> Evidence {
    Evidence {
        ciphertext_id: e.has_ciphertext_id.then_some(e.ciphertext_id),
        shared_text: e.has_shared_text.then_some(e.shared_text),
    }
}

pub(crate) fn new_report(r: &NewReport) -> pb::FileReportRequest {
    pb::FileReportRequest {
        target: Some(target(&r.target)),
        reason: r.reason.as_str().into(),
        text: r.text.clone(),
        evidence: r.evidence.as_ref().map(evidence),
    }
}

pub(crate) fn new_report_from(r: pb::FileReportRequest) -> Result<NewReport> {
    Ok(NewReport {
        target: target_from(r.target)?,
        reason: ReportReason::parse(&r.reason, "reason")?,
        text: r.text,
        evidence: r.evidence.map(evidence_from),
    })
}

pub(crate) fn report(r: &Report) -> pb::Report {
    pb::Report {
        id: r.id.to_string(),
        reporter_id: r.reporter.to_string(),
        target: Some(target(&r.target)),
        reason: r.reason.as_str().into(),
        text: r.text.clone(),
        evidence: r.evidence.as_ref().map(evidence),
        status: r.status.as_str().into(),
        outcome: r.outcome.clone().unwrap_or_default(),
        created_at: timestamp(r.created_at),
        resolved_at: opt_timestamp(r.resolved_at),
    }
}

pub(crate) fn report_from(r: pb::Report) -> Result<Report> {
    Ok(Report {
        id: id_arg(&r.id, "id")?,
        reporter: id_arg(&r.reporter_id, "reporter_id")?,
        target: target_from(r.target)?,
        reason: ReportReason::parse(&r.reason, "reason")?,
        text: r.text,
        evidence: r.evidence.map(evidence_from),
        status: ReportStatus::parse(&r.status, "status")?,
        outcome: (!r.outcome.is_empty()).then_some(r.outcome),
        created_at: required_timestamp(r.created_at, "created_at")?,
        resolved_at: timestamp_from(r.resolved_at, "resolved_at")?,
    })
}

pub(crate) fn action(a: &Action) -> pb::Action {
    pb::Action {
        id: a.id.to_string(),
        target: Some(target(&a.target)),
        subject_id: id_text(a.subject),
        kind: a.kind.as_str().into(),
        label: a.label.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        reason: a.reason.clone(),
        note: a.note.clone(),
        actor_id: a.actor.to_string(),
        created_at: timestamp(a.created_at),
        expires_at: opt_timestamp(a.expires_at),
        reversed_at: opt_timestamp(a.reversed_at),
    }
}

fn label_from(value: &str) -> Result<Option<ContentLabel>> {
    if value.is_empty() {
        Ok(None)
    } else {
        ContentLabel::parse(value, "label").map(Some)
    }
}

pub(crate) fn action_from(a: pb::Action) -> Result<Action> {
    Ok(Action {
        id: id_arg(&a.id, "id")?,
        target: target_from(a.target)?,
        subject: opt_id_arg(&a.subject_id, "subject_id")?,
        kind: ActionKind::parse(&a.kind, "kind")?,
        label: label_from(&a.label)?,
        reason: a.reason,
        note: a.note,
        actor: id_arg(&a.actor_id, "actor_id")?,
        created_at: required_timestamp(a.created_at, "created_at")?,
        expires_at: timestamp_from(a.expires_at, "expires_at")?,
        reversed_at: timestamp_from(a.reversed_at, "reversed_at")?,
    })
}

pub(crate) fn new_action(a: &NewAction) -> pb::TakeActionRequest {
    pb::TakeActionRequest {
        target: Some(target(&a.target)),
        kind: a.kind.as_str().into(),
        label: a.label.map(|l| l.as_str().to_owned()).unwrap_or_default(),
        subject_id: id_text(a.subject),
        reason: a.reason.clone(),
        note: a.note.clone(),
        expires_at: opt_timestamp(a.expires_at),
    }
}

pub(crate) fn new_action_from(a: pb::TakeActionRequest) -> Result<NewAction> {
    Ok(NewAction {
        target: target_from(a.target)?,
        kind: ActionKind::parse(&a.kind, "kind")?,
        label: label_from(&a.label)?,
        subject: opt_id_arg(&a.subject_id, "subject_id")?,
        reason: a.reason,
        note: a.note,
        expires_at: timestamp_from(a.expires_at, "expires_at")?,
    })
}

pub(crate) fn appeal(a: &Appeal) -> pb::Appeal {
    pb::Appeal {
        id: a.id.to_string(),
        action_id: a.action_id.to_string(),
        appellant_id: a.appellant.to_string(),
        text: a.text.clone(),
        status: a.status.as_str().into(),
        decided_by: id_text(a.decided_by),
        decision_note: a.decision_note.clone().unwrap_or_default(),
        created_at: timestamp(a.created_at),
        decided_at: opt_timestamp(a.decided_at),
    }
}

pub(crate) fn appeal_from(a: pb::Appeal) -> Result<Appeal> {
    Ok(Appeal {
        id: id_arg(&a.id, "id")?,
        action_id: id_arg(&a.action_id, "action_id")?,
        appellant: id_arg(&a.appellant_id, "appellant_id")?,
        text: a.text,
        status: AppealStatus::parse(&a.status, "status")?,
        decided_by: opt_id_arg(&a.decided_by, "decided_by")?,
        decision_note: a.decided_at.is_some().then_some(a.decision_note),
        created_at: required_timestamp(a.created_at, "created_at")?,
        decided_at: timestamp_from(a.decided_at, "decided_at")?,
    })
}

pub(crate) fn strike(s: &Strike) -> pb::Strike {
    pb::Strike {
        action: Some(action(&s.action)),
        appeal: s.appeal.as_ref().map(appeal),
    }
}

pub(crate) fn strike_from(s: pb::Strike) -> Result<Strike> {
    Ok(Strike {
        action: action_from(
            s.action
                .ok_or_else(|| Error::invalid("action", "is missing"))?,
        )?,
        appeal: s.appeal.map(appeal_from).transpose()?,
    })
}

pub(crate) fn queue_filter(f: QueueFilter) -> &'static str {
    match f {
        QueueFilter::All => "all",
        QueueFilter::Mine => "mine",
        QueueFilter::Escalated => "escalated",
    }
}

pub(crate) fn queue_filter_from(f: &str) -> Result<QueueFilter> {
    match f {
        "" | "all" => Ok(QueueFilter::All),
        "mine" => Ok(QueueFilter::Mine),
        "escalated" => Ok(QueueFilter::Escalated),
        _ => Err(Error::invalid("filter", "must be all, mine or escalated")),
    }
}

pub(crate) fn queue_item(q: &QueueItem) -> pb::QueueItem {
    pb::QueueItem {
        target: Some(target(&q.target)),
        report_count: q.report_count,
        top_reason: q.top_reason.as_str().into(),
        priority: q.priority,
        oldest_report_at: timestamp(q.oldest_report_at),
        age_seconds: q.age_seconds,
        assignee_id: id_text(q.assignee),
        escalated: q.escalated,
    }
}

pub(crate) fn queue_item_from(q: pb::QueueItem) -> Result<QueueItem> {
    Ok(QueueItem {
        target: target_from(q.target)?,
        report_count: q.report_count,
        top_reason: ReportReason::parse(&q.top_reason, "top_reason")?,
        priority: q.priority,
        oldest_report_at: required_timestamp(q.oldest_report_at, "oldest_report_at")?,
        age_seconds: q.age_seconds,
        assignee: opt_id_arg::<UserId>(&q.assignee_id, "assignee_id")?,
        escalated: q.escalated,
    })
}

pub(crate) fn audit_entry(e: &AuditEntry) -> pb::AuditEntry {
    pb::AuditEntry {
        id: e.id.to_string(),
        at: timestamp(e.at),
        actor_id: id_text(e.actor),
        action: e.action.clone(),
        subject: e.subject.clone(),
        reason: e.reason.clone(),
        detail: e.detail.clone(),
    }
}

pub(crate) fn audit_entry_from(e: pb::AuditEntry) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: id_arg(&e.id, "id")?,
        at: required_timestamp(e.at, "at")?,
        actor: opt_id_arg(&e.actor_id, "actor_id")?,
        action: e.action,
        subject: e.subject,
        reason: e.reason,
        detail: e.detail,
    })
}

pub(crate) fn rule(r: &Rule) -> Result<pb::Rule> {
    Ok(pb::Rule {
        id: r.id.to_string(),
        version: r.version,
        name: r.name.clone(),
        body_json: serde_json::to_string(&r.body).map_err(Error::internal)?,
        outcome: r.outcome.code(),
        public_reason: r.public_reason.clone(),
        enabled: r.enabled,
        updated_by: r.updated_by.to_string(),
        updated_at: timestamp(r.updated_at),
    })
}

fn body_from(json: &str) -> Result<RuleBody> {
    serde_json::from_str(json)
        .map_err(|e| Error::invalid("body", format!("is not a valid rule body: {e}")))
}

pub(crate) fn rule_from(r: pb::Rule) -> Result<Rule> {
    Ok(Rule {
        id: id_arg(&r.id, "id")?,
        version: r.version,
        name: r.name,
        body: body_from(&r.body_json)?,
        outcome: RuleOutcome::parse(&r.outcome, "outcome")?,
        public_reason: r.public_reason,
        enabled: r.enabled,
        updated_by: id_arg(&r.updated_by, "updated_by")?,
        updated_at: required_timestamp(r.updated_at, "updated_at")?,
    })
}

pub(crate) fn draft(d: &RuleDraft) -> Result<pb::SaveRuleRequest> {
    Ok(pb::SaveRuleRequest {
        id: id_text(d.id),
        name: d.name.clone(),
        body_json: serde_json::to_string(&d.body).map_err(Error::internal)?,
        outcome: d.outcome.code(),
        public_reason: d.public_reason.clone(),
        enabled: d.enabled,
    })
}

pub(crate) fn draft_from(d: pb::SaveRuleRequest) -> Result<RuleDraft> {
    Ok(RuleDraft {
        id: opt_id_arg(&d.id, "id")?,
        name: d.name,
        body: body_from(&d.body_json)?,
        outcome: RuleOutcome::parse(&d.outcome, "outcome")?,
        public_reason: d.public_reason,
        enabled: d.enabled,
    })
}

fn surface_code(s: Surface) -> &'static str {
    match s {
        Surface::Post => "post",
        Surface::ChatMetadata => "chat_metadata",
        Surface::Profile => "profile",
        Surface::Media => "media",
    }
}

pub(crate) fn check_input(i: &CheckInput) -> pb::CheckRequest {
    pb::CheckRequest {
        author_id: id_text(i.author),
        account_created_at: opt_timestamp(i.account_created_at),
        surface: surface_code(i.surface).into(),
        text: i.text.clone(),
        media_hashes: i.media_hashes.clone(),
    }
}

pub(crate) fn check_input_from(r: pb::CheckRequest) -> Result<CheckInput> {
    let surface = match r.surface.as_str() {
        "" | "post" => Surface::Post,
        "chat_metadata" => Surface::ChatMetadata,
        "profile" => Surface::Profile,
        "media" => Surface::Media,
        _ => {
            return Err(Error::invalid(
                "surface",
                "must be post, chat_metadata, profile or media",
            ));
        }
    };
    Ok(CheckInput {
        author: opt_id_arg(&r.author_id, "author_id")?,
        account_created_at: timestamp_from(r.account_created_at, "account_created_at")?,
        surface,
        text: r.text,
        media_hashes: r.media_hashes,
    })
}

fn verdict_code(k: VerdictKind) -> &'static str {
    match k {
        VerdictKind::Allow => "allow",
        VerdictKind::Label => "label",
        VerdictKind::Hold => "hold",
        VerdictKind::Reject => "reject",
    }
}

pub(crate) fn verdict(v: &Verdict) -> pb::Verdict {
    pb::Verdict {
        kind: verdict_code(v.kind).into(),
        reason: v.reason.clone().unwrap_or_default(),
        labels: v.labels.iter().map(|l| l.as_str().to_owned()).collect(),
        rule_ids: v.rules.iter().map(ToString::to_string).collect(),
    }
}

pub(crate) fn verdict_from(v: pb::Verdict) -> Result<Verdict> {
    let kind = match v.kind.as_str() {
        "allow" => VerdictKind::Allow,
        "label" => VerdictKind::Label,
        "hold" => VerdictKind::Hold,
        "reject" => VerdictKind::Reject,
        _ => return Err(Error::invalid("kind", "is not a verdict")),
    };
    Ok(Verdict {
        kind,
        reason: (!v.reason.is_empty()).then_some(v.reason),
        labels: v
            .labels
            .iter()
            .map(|l| ContentLabel::parse(l, "labels"))
            .collect::<Result<_>>()?,
        rules: v
            .rule_ids
            .iter()
            .map(|r| id_arg(r, "rule_ids"))
            .collect::<Result<_>>()?,
    })
}
