//! [`TrustSafetyStore`] over [`Db`] with one set of queries for both engines.

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, is_unique_violation, on_db};
use nova_events::{AppendEvents, EventEnvelope};
use sqlx::QueryBuilder;

use super::{
    ActionRow, AppealRow, AuditRow, QueueRow, ReportRecord, ReportRow, RuleRow, TrustSafetyStore,
    target_of,
};
use crate::model::{
    Action, ActionId, Appeal, AppealId, AuditEntry, AuditQuery, Report, Rule, RuleId, Target,
};

const REPORT_COLUMNS: &str = "id, reporter_id, target_kind, target_id, reason, text, \
     evidence_ciphertext_id, evidence_text, status, outcome, created_at, resolved_at";
const ACTION_COLUMNS: &str = "id, target_kind, target_id, subject_id, kind, label, reason, note, \
     actor_id, created_at, expires_at, reversed_at";
const APPEAL_COLUMNS: &str = "id, action_id, appellant_id, text, status, decided_by, \
     decision_note, created_at, decided_at";
const RULE_COLUMNS: &str =
    "id, version, name, body, outcome, public_reason, enabled, updated_by, updated_at";

/// The trust & safety store.
#[derive(Debug, Clone)]
pub struct SqlTrustSafetyStore {
    db: Db,
}

impl SqlTrustSafetyStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Appends audit entries inside the transaction `$tx` (both engines).
macro_rules! append_audit {
    ($tx:ident, $entries:expr) => {
        for e in $entries {
            sqlx::query(
                "INSERT INTO trust_audit_log (id, at, actor_id, action, subject, reason, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(e.id)
            .bind(e.at)
            .bind(e.actor)
            .bind(&e.action)
            .bind(&e.subject)
            .bind(&e.reason)
            .bind(&e.detail)
            .execute(&mut *$tx)
            .await
            .db()?;
        }
    };
}

fn rows<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = Error>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct QueueSqlRow {
    target_kind: String,
    target_id: uuid::Uuid,
    report_count: i64,
    max_severity: i32,
    trust_sum: f64,
    oldest: Timestamp,
    assignee_id: Option<UserId>,
    escalated: bool,
}

#[async_trait]
impl TrustSafetyStore for SqlTrustSafetyStore {
    async fn insert_report(
        &self,
        rec: &ReportRecord,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let r = &rec.report;
        let (cipher, shared) = match &r.evidence {
            Some(e) => (e.ciphertext_id.as_deref(), e.shared_text.as_deref()),
            None => (None, None),
        };
        let inserted = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "INSERT INTO trust_reports (id, reporter_id, target_kind, target_id, reason, severity, \
                 text, evidence_ciphertext_id, evidence_text, reporter_trust, status, outcome, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12) \
                 ON CONFLICT (reporter_id, target_kind, target_id) DO NOTHING",
            )
            .bind(r.id)
            .bind(r.reporter)
            .bind(r.target.kind.as_str())
            .bind(r.target.id)
            .bind(r.reason.as_str())
            .bind(rec.severity)
            .bind(&r.text)
            .bind(cipher)
            .bind(shared)
            .bind(rec.reporter_trust)
            .bind(r.status.as_str())
            .bind(r.created_at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                append_audit!(tx, audit);
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(inserted)
    }

    async fn report_by(&self, reporter: UserId, target: Target) -> Result<Option<Report>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM trust_reports \
             WHERE reporter_id = $1 AND target_kind = $2 AND target_id = $3"
        );
        let row: Option<ReportRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(reporter)
            .bind(target.kind.as_str())
            .bind(target.id)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Report::try_from).transpose()
    }

    async fn reports_by(&self, reporter: UserId, limit: u32) -> Result<Vec<Report>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM trust_reports WHERE reporter_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let found: Vec<ReportRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(reporter)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())?;
        rows(found)
    }

    async fn reporter_history(&self, reporter: UserId) -> Result<(i64, i64)> {
        let (actioned, dismissed): (Option<i64>, Option<i64>) = on_db!(&self.db, read, |c| {
            sqlx::query_as(
                "SELECT SUM(CASE WHEN status = 'actioned' THEN 1 ELSE 0 END), \
                        SUM(CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END) \
                 FROM trust_reports WHERE reporter_id = $1",
            )
            .bind(reporter)
            .fetch_one(c)
            .await
            .db()
        })?;
        Ok((actioned.unwrap_or(0), dismissed.unwrap_or(0)))
    }

    async fn open_reports(&self, target: Target) -> Result<Vec<Report>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM trust_reports \
             WHERE target_kind = $1 AND target_id = $2 AND status = 'open' ORDER BY created_at, id"
        );
        let found: Vec<ReportRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(target.kind.as_str())
            .bind(target.id)
            .fetch_all(c)
            .await
            .db())?;
        rows(found)
    }

    async fn queue(&self) -> Result<Vec<QueueRow>> {
        let found: Vec<QueueSqlRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(
                "SELECT r.target_kind, r.target_id, COUNT(*) AS report_count, \
                 MAX(r.severity) AS max_severity, SUM(r.reporter_trust) AS trust_sum, \
                 MIN(r.created_at) AS oldest, q.assignee_id, COALESCE(q.escalated, FALSE) AS escalated \
                 FROM trust_reports r LEFT JOIN trust_queue q \
                   ON q.target_kind = r.target_kind AND q.target_id = r.target_id \
                 WHERE r.status = 'open' \
                 GROUP BY r.target_kind, r.target_id, q.assignee_id, q.escalated",
            )
            .fetch_all(c)
            .await
            .db()
        })?;
        found
            .into_iter()
            .map(|r| {
                Ok(QueueRow {
                    target: target_of(&r.target_kind, r.target_id)?,
                    report_count: r.report_count,
                    max_severity: r.max_severity,
                    trust_sum: r.trust_sum,
                    oldest: r.oldest,
                    assignee: r.assignee_id,
                    escalated: r.escalated,
                })
            })
            .collect()
    }

    async fn set_queue_state(
        &self,
        target: Target,
        assignee: Option<UserId>,
        escalated: bool,
        note: &str,
        now: Timestamp,
        audit: &[AuditEntry],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO trust_queue (target_kind, target_id, assignee_id, escalated, escalation_note, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (target_kind, target_id) DO UPDATE SET \
                 assignee_id = EXCLUDED.assignee_id, escalated = EXCLUDED.escalated, \
                 escalation_note = EXCLUDED.escalation_note, updated_at = EXCLUDED.updated_at",
            )
            .bind(target.kind.as_str())
            .bind(target.id)
            .bind(assignee)
            .bind(escalated)
            .bind(note)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            append_audit!(tx, audit);
        });
        Ok(())
    }

    async fn dismiss_reports(
        &self,
        target: Target,
        outcome: &str,
        now: Timestamp,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<u64> {
        let n = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE trust_reports SET status = 'dismissed', outcome = $3, resolved_at = $4 \
                 WHERE target_kind = $1 AND target_id = $2 AND status = 'open'",
            )
            .bind(target.kind.as_str())
            .bind(target.id)
            .bind(outcome)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n > 0 {
                sqlx::query("DELETE FROM trust_queue WHERE target_kind = $1 AND target_id = $2")
                    .bind(target.kind.as_str())
                    .bind(target.id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                append_audit!(tx, audit);
                tx.append_events(events).await?;
            }
            n
        });
        Ok(n)
    }

    async fn insert_action(
        &self,
        a: &Action,
        outcome: &str,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO trust_actions (id, target_kind, target_id, subject_id, kind, label, reason, \
                 note, actor_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(a.id)
            .bind(a.target.kind.as_str())
            .bind(a.target.id)
            .bind(a.subject)
            .bind(a.kind.as_str())
            .bind(a.label.map(|l| l.as_str()))
            .bind(&a.reason)
            .bind(&a.note)
            .bind(a.actor)
            .bind(a.created_at)
            .bind(a.expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query(
                "UPDATE trust_reports SET status = 'actioned', outcome = $3, resolved_at = $4 \
                 WHERE target_kind = $1 AND target_id = $2 AND status = 'open'",
            )
            .bind(a.target.kind.as_str())
            .bind(a.target.id)
            .bind(outcome)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query("DELETE FROM trust_queue WHERE target_kind = $1 AND target_id = $2")
                .bind(a.target.kind.as_str())
                .bind(a.target.id)
                .execute(&mut *tx)
                .await
                .db()?;
            append_audit!(tx, audit);
            tx.append_events(events).await?;
        });
        Ok(())
    }

    async fn action(&self, id: ActionId) -> Result<Option<Action>> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM trust_actions WHERE id = $1");
        let row: Option<ActionRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Action::try_from).transpose()
    }

    async fn reverse_action(
        &self,
        id: ActionId,
        by: UserId,
        note: &str,
        now: Timestamp,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let changed = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE trust_actions SET reversed_at = $2, reversed_by = $3, reversal_note = $4 \
                 WHERE id = $1 AND reversed_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .bind(note)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                append_audit!(tx, audit);
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(changed)
    }

    async fn unreversed_actions(&self, targets: &[Target]) -> Result<Vec<Action>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<ActionRow> = on_db!(&self.db, read, |c| {
            // A flat `IN` list: one OR'd term per target overflows SQLite's expression
            // depth (1,000) at the batch cap; the kind is matched below.
            let mut q = QueryBuilder::new(format!(
                "SELECT {ACTION_COLUMNS} FROM trust_actions WHERE reversed_at IS NULL \
                 AND target_id IN ("
            ));
            let mut ids = q.separated(", ");
            for t in targets {
                ids.push_bind(t.id);
            }
            q.push(") ORDER BY created_at, id");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let mut actions = rows(found)?;
        actions.retain(|a: &Action| targets.contains(&a.target));
        Ok(actions)
    }

    async fn actions_against(&self, user: UserId) -> Result<Vec<Action>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM trust_actions WHERE subject_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 500"
        );
        let found: Vec<ActionRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(c)
            .await
            .db())?;
        rows(found)
    }

    async fn append_audit_once(&self, e: &AuditEntry) -> Result<bool> {
        let appended = on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO trust_audit_log (id, at, actor_id, action, subject, reason, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(e.id)
        .bind(e.at)
        .bind(e.actor)
        .bind(&e.action)
        .bind(&e.subject)
        .bind(&e.reason)
        .bind(&e.detail)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        Ok(appended > 0)
    }

    async fn insert_appeal(&self, a: &Appeal, audit: &[AuditEntry]) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            let inserted = sqlx::query(
                "INSERT INTO trust_appeals (id, action_id, appellant_id, text, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.id)
            .bind(a.action_id)
            .bind(a.appellant)
            .bind(&a.text)
            .bind(a.status.as_str())
            .bind(a.created_at)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        "action_id: this action was already appealed",
                    ));
                }
                other => other.db()?,
            };
            append_audit!(tx, audit);
        });
        Ok(())
    }

    async fn appeal(&self, id: AppealId) -> Result<Option<Appeal>> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM trust_appeals WHERE id = $1");
        let row: Option<AppealRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Appeal::try_from).transpose()
    }

    async fn appeals_of(&self, actions: &[ActionId]) -> Result<Vec<Appeal>> {
        if actions.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<AppealRow> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(format!(
                "SELECT {APPEAL_COLUMNS} FROM trust_appeals WHERE action_id IN ("
            ));
            let mut list = q.separated(", ");
            for id in actions {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        rows(found)
    }

    async fn pending_appeals(&self, limit: u32) -> Result<Vec<Appeal>> {
        let sql = format!(
            "SELECT {APPEAL_COLUMNS} FROM trust_appeals WHERE status = 'pending' \
             ORDER BY created_at, id LIMIT $1"
        );
        let found: Vec<AppealRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())?;
        rows(found)
    }

    async fn decide_appeal(
        &self,
        a: &Appeal,
        reverse: bool,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let changed = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE trust_appeals SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5 \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(a.id)
            .bind(a.status.as_str())
            .bind(a.decided_by)
            .bind(&a.decision_note)
            .bind(a.decided_at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                if reverse {
                    sqlx::query(
                        "UPDATE trust_actions SET reversed_at = $2, reversed_by = $3, reversal_note = $4 \
                         WHERE id = $1 AND reversed_at IS NULL",
                    )
                    .bind(a.action_id)
                    .bind(a.decided_at)
                    .bind(a.decided_by)
                    .bind("appeal granted")
                    .execute(&mut *tx)
                    .await
                    .db()?;
                }
                append_audit!(tx, audit);
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(changed)
    }

    async fn audit(&self, query: &AuditQuery, limit: u32) -> Result<Vec<AuditEntry>> {
        let found: Vec<AuditRow> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT id, at, actor_id, action, subject, reason, detail FROM trust_audit_log WHERE 1 = 1",
            );
            if let Some(subject) = &query.subject {
                q.push(" AND subject = ");
                q.push_bind(subject);
            }
            if let Some(before) = query.before {
                // Ids are UUIDv7, so they order entries in time.
                q.push(" AND id < ");
                q.push_bind(before);
            }
            q.push(" ORDER BY id DESC LIMIT ");
            q.push_bind(i64::from(limit));
            q.build_query_as().fetch_all(c).await.db()
        })?;
        Ok(found.into_iter().map(AuditEntry::from).collect())
    }

    async fn rules(&self) -> Result<Vec<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM trust_rules ORDER BY id");
        let found: Vec<RuleRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .fetch_all(c)
            .await
            .db())?;
        rows(found)
    }

    async fn rule(&self, id: RuleId) -> Result<Option<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM trust_rules WHERE id = $1");
        let row: Option<RuleRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Rule::try_from).transpose()
    }

    async fn save_rule(
        &self,
        r: &Rule,
        previous: Option<i32>,
        audit: &[AuditEntry],
        events: &[EventEnvelope],
    ) -> Result<()> {
        let body = serde_json::to_string(&r.body).map_err(Error::internal)?;
        let outcome = r.outcome.code();
        on_db!(&self.db, tx, |tx| {
            let n = match previous {
                None => sqlx::query(
                    "INSERT INTO trust_rules (id, version, name, body, outcome, public_reason, enabled, \
                     updated_by, updated_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE $10 = 0 \
                     ON CONFLICT (id) DO NOTHING",
                ),
                Some(_) => sqlx::query(
                    "UPDATE trust_rules SET version = $2, name = $3, body = $4, outcome = $5, \
                     public_reason = $6, enabled = $7, updated_by = $8, updated_at = $9 \
                     WHERE id = $1 AND version = $10",
                ),
            }
            .bind(r.id)
            .bind(r.version)
            .bind(&r.name)
            .bind(&body)
            .bind(&outcome)
            .bind(&r.public_reason)
            .bind(r.enabled)
            .bind(r.updated_by)
            .bind(r.updated_at)
            .bind(previous.unwrap_or(0))
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n != 1 {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "id: the rule was changed meanwhile; read it again",
                ));
            }
            sqlx::query(
                "INSERT INTO trust_rule_versions (rule_id, version, name, body, outcome, public_reason, \
                 enabled, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(r.id)
            .bind(r.version)
            .bind(&r.name)
            .bind(&body)
            .bind(&outcome)
            .bind(&r.public_reason)
            .bind(r.enabled)
            .bind(r.updated_by)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await
            .db()?;
            append_audit!(tx, audit);
            tx.append_events(events).await?;
        });
        Ok(())
    }

    async fn rule_history(&self, id: RuleId) -> Result<Vec<Rule>> {
        let found: Vec<RuleRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(
                "SELECT rule_id AS id, version, name, body, outcome, public_reason, enabled, \
                 changed_by AS updated_by, changed_at AS updated_at \
                 FROM trust_rule_versions WHERE rule_id = $1 ORDER BY version",
            )
            .bind(id)
            .fetch_all(c)
            .await
            .db()
        })?;
        rows(found)
    }
}
