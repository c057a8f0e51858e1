//! nova-trust-safety on SQLite and PostgreSQL: reports, queue, actions, strikes and
//! appeals, the audit log, rules and the pre-publish check.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use nova_core::{ErrorKind, ManualClock, MessageId, PostId, Principal, SessionId, UserId};
use nova_db::Db;
use nova_events::outbox;
use nova_kv::{InProcessRateLimiter, Quota};
use nova_proto::nova::trustsafety::v1 as pb;
use nova_trust_safety::store::SqlTrustSafetyStore;
use nova_trust_safety::{
    ActionKind, AppealStatus, AuditQuery, CheckInput, ContentLabel, Evidence, NewAction, NewReport,
    QueueFilter, ReportReason, ReportStatus, RuleBody, RuleDraft, RuleOutcome, Target,
    TrustSafetyApi, TrustSafetyConfig, TrustSafetyService, VerdictKind,
};
use prost::Message;

struct World {
    ts: TrustSafetyService,
    db: Db,
    clock: ManualClock,
}

fn world(db: Db) -> World {
    world_with(db, TrustSafetyConfig::default())
}

fn world_with(db: Db, config: TrustSafetyConfig) -> World {
    let clock = ManualClock::new(Utc::now().trunc_subsecs(6));
    let limiter = Arc::new(InProcessRateLimiter::new(clock.shared()));
    let ts = TrustSafetyService::new(Arc::new(SqlTrustSafetyStore::new(db.clone())), limiter)
        .with_clock(clock.shared())
        .with_config(config);
    World { ts, db, clock }
}

fn user() -> Principal {
    Principal::user(UserId::new(), SessionId::new())
}

fn moderator() -> Principal {
    let mut p = user();
    p.scopes.push("moderator".into());
    p
}

fn admin() -> Principal {
    let mut p = user();
    p.scopes.push("admin".into());
    p
}

fn report(target: Target, reason: ReportReason) -> NewReport {
    NewReport {
        target,
        reason,
        text: String::new(),
        evidence: None,
    }
}

fn action(target: Target, kind: ActionKind, subject: Option<UserId>) -> NewAction {
    NewAction {
        target,
        kind,
        label: None,
        subject,
        reason: "breaks rule 3".into(),
        note: "seen many times".into(),
        expires_at: None,
    }
}

async fn event_types(db: &Db) -> Vec<String> {
    outbox::store(db)
        .fetch_unpublished(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

fn keyword_rule(phrases: &[&str], fold: bool, outcome: RuleOutcome) -> RuleDraft {
    RuleDraft {
        id: None,
        name: format!("keywords {}", phrases.join(",")),
        body: RuleBody::Keywords {
            phrases: phrases.iter().map(|p| (*p).to_owned()).collect(),
            fold,
        },
        outcome,
        public_reason: "This breaks our spam rules.".into(),
        enabled: true,
    }
}

fn text(t: &str) -> CheckInput {
    CheckInput {
        text: t.into(),
        ..Default::default()
    }
}

mod suite {
    use super::*;

    pub async fn reports_are_validated_deduplicated_and_rate_limited(db: Db) {
        let w = world_with(
            db,
            TrustSafetyConfig {
                report_quota: Quota::per_hour(3),
            },
        );
        let alice = user();
        let post = Target::post(PostId::new());

        // Bad input names the field and changes nothing.
        let mut long = report(post, ReportReason::Spam);
        long.text = "x".repeat(1001);
        let err = w.ts.report(&alice, long).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));
        assert_eq!(err.field(), Some("text"));
        let err =
            w.ts.report(&alice, report(post, ReportReason::Other))
                .await
                .unwrap_err();
        assert_eq!(err.field(), Some("text"), "other needs free text");
        let err =
            w.ts.report(
                &alice,
                report(Target::account(alice.user_id), ReportReason::Spam),
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("target"));
        let mut stray = report(post, ReportReason::Spam);
        stray.evidence = Some(Evidence {
            ciphertext_id: Some("c1".into()),
            shared_text: None,
        });
        assert_eq!(
            w.ts.report(&alice, stray).await.unwrap_err().field(),
            Some("evidence")
        );
        assert!(w.ts.my_reports(&alice).await.unwrap().is_empty());

        // Exactly 1,000 characters is fine; a second report of the same target is the first.
        let mut first = report(post, ReportReason::Spam);
        first.text = "é".repeat(1000);
        let a = w.ts.report(&alice, first).await.unwrap();
        let again =
            w.ts.report(&alice, report(post, ReportReason::Hate))
                .await
                .unwrap();
        assert_eq!(again.id, a.id);
        assert_eq!(again.reason, ReportReason::Spam);
        assert_eq!(w.ts.my_reports(&alice).await.unwrap().len(), 1);

        // The quota is 3 per hour: the duplicate did not count, two more pass, then no.
        for _ in 0..2 {
            w.ts.report(
                &alice,
                report(Target::post(PostId::new()), ReportReason::Spam),
            )
            .await
            .unwrap();
        }
        let err =
            w.ts.report(
                &alice,
                report(Target::post(PostId::new()), ReportReason::Spam),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited);
        assert_eq!(w.ts.my_reports(&alice).await.unwrap().len(), 3);
        // Someone else is not limited by alice's reports.
        w.ts.report(&user(), report(post, ReportReason::Spam))
            .await
            .unwrap();
        w.clock.advance(Duration::hours(1));
        w.ts.report(
            &alice,
            report(Target::post(PostId::new()), ReportReason::Spam),
        )
        .await
        .unwrap();
    }

    pub async fn chat_reports_keep_only_shared_evidence(db: Db) {
        let w = world(db);
        let bob = user();
        let msg = Target::chat_message(MessageId::new());
        let mut r = report(msg, ReportReason::Harassment);
        r.evidence = Some(Evidence {
            ciphertext_id: Some("ct-42".into()),
            shared_text: Some("you will regret this".into()),
        });
        let filed = w.ts.report(&bob, r.clone()).await.unwrap();
        assert_eq!(filed.evidence, r.evidence);
        let m = moderator();
        let open = w.ts.target_reports(&m, msg).await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].evidence, r.evidence);

        // Sharing only the ciphertext id keeps no text.
        let carol = user();
        let mut r = report(msg, ReportReason::Harassment);
        r.evidence = Some(Evidence {
            ciphertext_id: Some("ct-42".into()),
            shared_text: None,
        });
        let filed = w.ts.report(&carol, r).await.unwrap();
        assert_eq!(filed.evidence.unwrap().shared_text, None);
        let stored = w.ts.my_reports(&carol).await.unwrap();
        assert_eq!(stored[0].evidence.as_ref().unwrap().shared_text, None);
    }

    pub async fn queue_orders_by_priority_and_handles_assignment_and_escalation(db: Db) {
        let w = world(db);
        let m = moderator();
        let spam = Target::post(PostId::new());
        let threat = Target::post(PostId::new());
        for _ in 0..3 {
            w.ts.report(&user(), report(spam, ReportReason::Spam))
                .await
                .unwrap();
        }
        w.clock.advance(Duration::minutes(5));
        w.ts.report(&user(), report(threat, ReportReason::Violence))
            .await
            .unwrap();
        w.clock.advance(Duration::minutes(5));

        let q = w.ts.queue(&m, QueueFilter::All, 0).await.unwrap();
        assert_eq!(q.len(), 2);
        // violence (8) × 1 report × trust 1.0 = 8 beats spam (2) × 3 × 1.0 = 6.
        assert_eq!(q[0].target, threat);
        assert_eq!(q[0].top_reason, ReportReason::Violence);
        assert!((q[0].priority - 8.0).abs() < 1e-9);
        assert_eq!(q[1].target, spam);
        assert_eq!(q[1].report_count, 3);
        assert!((q[1].priority - 6.0).abs() < 1e-9);
        assert_eq!(q[1].age_seconds, 600, "SLA age from the oldest report");

        // Assignment.
        w.ts.assign(&m, spam, Some(m.user_id)).await.unwrap();
        let mine = w.ts.queue(&m, QueueFilter::Mine, 0).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].assignee, Some(m.user_id));
        assert_eq!(
            w.ts.assign(&m, Target::post(PostId::new()), None)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound,
            "only queued targets can be assigned"
        );

        // Escalation takes it out of moderators' queue and into admins'.
        w.ts.escalate(&m, threat, "credible threat").await.unwrap();
        let q = w.ts.queue(&m, QueueFilter::All, 0).await.unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            w.ts.queue(&m, QueueFilter::Escalated, 0)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        let err =
            w.ts.take_action(&m, action(threat, ActionKind::Remove, None))
                .await
                .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
        let a = admin();
        let esc = w.ts.queue(&a, QueueFilter::Escalated, 0).await.unwrap();
        assert_eq!(esc.len(), 1);
        assert!(esc[0].escalated);
        assert_eq!(w.ts.queue(&a, QueueFilter::All, 0).await.unwrap().len(), 2);
        w.ts.take_action(&a, action(threat, ActionKind::Remove, None))
            .await
            .unwrap();
        assert!(
            w.ts.queue(&a, QueueFilter::Escalated, 0)
                .await
                .unwrap()
                .is_empty()
        );

        // Dismissing closes the reports; a dismissed reporter then weighs less.
        assert_eq!(w.ts.dismiss(&m, spam, "not spam").await.unwrap(), 3);
        assert!(
            w.ts.queue(&m, QueueFilter::All, 0)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            w.ts.dismiss(&m, spam, "").await.unwrap_err().kind(),
            &ErrorKind::NotFound
        );
        let doubter = user();
        let t1 = Target::post(PostId::new());
        w.ts.report(&doubter, report(t1, ReportReason::Spam))
            .await
            .unwrap();
        w.ts.dismiss(&m, t1, "no").await.unwrap();
        let t2 = Target::post(PostId::new());
        w.ts.report(&doubter, report(t2, ReportReason::Spam))
            .await
            .unwrap();
        let q = w.ts.queue(&m, QueueFilter::All, 0).await.unwrap();
        // trust = 2 × (0 + 1) / (1 + 2) = 2/3
        assert!(
            (q[0].priority - 2.0 * 2.0 / 3.0).abs() < 1e-9,
            "{}",
            q[0].priority
        );
    }

    pub async fn actions_close_reports_publish_events_and_are_enforceable(db: Db) {
        let w = world(db);
        let m = moderator();
        let author = UserId::new();
        let post = Target::post(PostId::new());
        let reporter = user();
        w.ts.report(&reporter, report(post, ReportReason::Hate))
            .await
            .unwrap();

        // Bad actions name the field and change nothing.
        for (bad, field) in [
            (action(post, ActionKind::Suspend, None), "kind"),
            (
                action(Target::account(author), ActionKind::Hide, None),
                "kind",
            ),
            (action(post, ActionKind::Label, None), "label"),
            (
                NewAction {
                    reason: " ".into(),
                    ..action(post, ActionKind::Hide, None)
                },
                "reason",
            ),
            (
                NewAction {
                    expires_at: Some(Utc::now() - Duration::hours(1)),
                    ..action(post, ActionKind::Hide, None)
                },
                "expires_at",
            ),
            (
                action(
                    Target::account(author),
                    ActionKind::Silence,
                    Some(UserId::new()),
                ),
                "subject",
            ),
        ] {
            let err = w.ts.take_action(&m, bad).await.unwrap_err();
            assert_eq!(err.field(), Some(field));
        }
        assert!(w.ts.actions_in_force(&[post]).await.unwrap().is_empty());
        assert_eq!(
            w.ts.take_action(
                &m,
                action(Target::account(author), ActionKind::Delete, None)
            )
            .await
            .unwrap_err()
            .kind(),
            &ErrorKind::PermissionDenied,
            "deleting an account needs an admin"
        );

        let hidden =
            w.ts.take_action(&m, action(post, ActionKind::Hide, Some(author)))
                .await
                .unwrap();
        let mine = w.ts.my_reports(&reporter).await.unwrap();
        assert_eq!(mine[0].status, ReportStatus::Actioned);
        assert_eq!(mine[0].outcome.as_deref(), Some("actioned:hide"));

        let labelled =
            w.ts.take_action(
                &m,
                NewAction {
                    label: Some(ContentLabel::Sensitive),
                    expires_at: Some(w.clock_now() + Duration::hours(1)),
                    ..action(post, ActionKind::Label, Some(author))
                },
            )
            .await
            .unwrap();
        let silenced =
            w.ts.take_action(
                &m,
                action(Target::account(author), ActionKind::Silence, None),
            )
            .await
            .unwrap();
        assert_eq!(
            silenced.subject,
            Some(author),
            "account actions strike the account"
        );

        // One batch query answers for many targets.
        let other = Target::post(PostId::new());
        let force =
            w.ts.actions_in_force(&[post, Target::account(author), other])
                .await
                .unwrap();
        let ids: Vec<_> = force.iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![hidden.id, labelled.id, silenced.id]);
        assert!(
            force.iter().all(|a| a.note.is_empty()),
            "notes stay internal"
        );

        // Expiry and reversal end them.
        w.clock.advance(Duration::hours(2));
        w.ts.reverse_action(&m, hidden.id, "mistake").await.unwrap();
        let force = w.ts.actions_in_force(&[post]).await.unwrap();
        assert!(force.is_empty(), "{force:?}");
        assert_eq!(
            w.ts.reverse_action(&m, hidden.id, "again")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );

        // Each action and reversal is an outbox event carrying the action.
        let events = outbox::store(&w.db).fetch_unpublished(1000).await.unwrap();
        let taken: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == "trust_safety.action_taken")
            .collect();
        assert_eq!(taken.len(), 3);
        let decoded = pb::ActionChanged::decode(taken[0].payload.as_slice()).unwrap();
        assert_eq!(decoded.action.unwrap().id, hidden.id.to_string());
        let reversed: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == "trust_safety.action_reversed")
            .collect();
        assert_eq!(reversed.len(), 1);
        let decoded = pb::ActionChanged::decode(reversed[0].payload.as_slice()).unwrap();
        assert!(decoded.action.unwrap().reversed_at.is_some());
    }

    pub async fn appeals_need_a_different_moderator_and_reverse_the_action(db: Db) {
        let w = world(db);
        let m1 = moderator();
        let m2 = moderator();
        let author = user();
        let post = Target::post(PostId::new());
        w.ts.report(&user(), report(post, ReportReason::Harassment))
            .await
            .unwrap();
        let removed =
            w.ts.take_action(&m1, action(post, ActionKind::Remove, Some(author.user_id)))
                .await
                .unwrap();

        // The author sees the strike with its reason (not the moderators' note).
        let strikes = w.ts.strikes(&author).await.unwrap();
        assert_eq!(strikes.len(), 1);
        assert_eq!(strikes[0].action.reason, "breaks rule 3");
        assert!(strikes[0].action.note.is_empty());
        assert!(strikes[0].appeal.is_none());

        // Only the subject may appeal; others see no such action.
        assert_eq!(
            w.ts.appeal(&user(), removed.id, "not me")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        assert_eq!(
            w.ts.appeal(&author, removed.id, " ")
                .await
                .unwrap_err()
                .field(),
            Some("text")
        );
        let appeal =
            w.ts.appeal(&author, removed.id, "it was satire")
                .await
                .unwrap();
        let err = w.ts.appeal(&author, removed.id, "again").await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict, "once per action");
        assert_eq!(w.ts.pending_appeals(&m2, 0).await.unwrap()[0].id, appeal.id);

        // The moderator who acted may not decide.
        let err =
            w.ts.decide_appeal(&m1, appeal.id, true, "fine")
                .await
                .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
        assert!(!w.ts.actions_in_force(&[post]).await.unwrap().is_empty());

        let decided =
            w.ts.decide_appeal(&m2, appeal.id, true, "satire is allowed")
                .await
                .unwrap();
        assert_eq!(decided.status, AppealStatus::Granted);
        assert_eq!(decided.decided_by, Some(m2.user_id));
        assert!(w.ts.actions_in_force(&[post]).await.unwrap().is_empty());
        assert_eq!(
            w.ts.decide_appeal(&m2, appeal.id, false, "changed my mind")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );
        let strikes = w.ts.strikes(&author).await.unwrap();
        assert!(strikes[0].action.reversed_at.is_some());
        assert_eq!(
            strikes[0].appeal.as_ref().unwrap().status,
            AppealStatus::Granted
        );
        assert!(
            event_types(&w.db)
                .await
                .contains(&"trust_safety.action_reversed".to_string())
        );

        // The audit log holds every step, newest first.
        let log =
            w.ts.audit(
                &m2,
                AuditQuery {
                    subject: Some(post.to_string()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let steps: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(
            steps,
            vec![
                "report.created",
                "action.taken",
                "appeal.filed",
                "appeal.decided",
                "action.reversed"
            ]
        );
        assert_eq!(log[1].actor, Some(m2.user_id));
        assert_eq!(log.last().unwrap().reason, "harassment");

        // A denied appeal leaves the action in force.
        let post2 = Target::post(PostId::new());
        let hidden =
            w.ts.take_action(&m1, action(post2, ActionKind::Hide, Some(author.user_id)))
                .await
                .unwrap();
        let appeal = w.ts.appeal(&author, hidden.id, "please").await.unwrap();
        let denied =
            w.ts.decide_appeal(&m2, appeal.id, false, "stays")
                .await
                .unwrap();
        assert_eq!(denied.status, AppealStatus::Denied);
        assert_eq!(w.ts.actions_in_force(&[post2]).await.unwrap().len(), 1);
    }

    pub async fn audit_log_refuses_update_and_delete(db: Db) {
        let w = world(db);
        w.ts.report(
            &user(),
            report(Target::post(PostId::new()), ReportReason::Spam),
        )
        .await
        .unwrap();
        let before =
            w.ts.audit(&moderator(), AuditQuery::default())
                .await
                .unwrap();
        assert_eq!(before.len(), 1);
        let update = "UPDATE trust_audit_log SET reason = 'nothing happened'";
        let delete = "DELETE FROM trust_audit_log";
        for sql in [update, delete] {
            let result = match &w.db {
                Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
                Db::Sqlite(s) => sqlx::query(sql).execute(&s.writer).await.map(|_| ()),
            };
            let err = result.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let after =
            w.ts.audit(&moderator(), AuditQuery::default())
                .await
                .unwrap();
        assert_eq!(after, before);
    }

    pub async fn non_moderators_get_not_found_from_every_moderation_call(db: Db) {
        let w = world(db);
        let m = moderator();
        let author = user();
        let post = Target::post(PostId::new());
        w.ts.report(&user(), report(post, ReportReason::Spam))
            .await
            .unwrap();
        let a =
            w.ts.take_action(&m, action(post, ActionKind::Hide, Some(author.user_id)))
                .await
                .unwrap();
        let appeal = w.ts.appeal(&author, a.id, "why").await.unwrap();
        let rule =
            w.ts.save_rule(&m, keyword_rule(&["spam"], false, RuleOutcome::Hold))
                .await
                .unwrap();
        let queued = Target::post(PostId::new());
        w.ts.report(&user(), report(queued, ReportReason::Spam))
            .await
            .unwrap();

        // An ordinary user, and even the author of the actioned post.
        for p in [user(), author.clone()] {
            let kinds = vec![
                w.ts.queue(&p, QueueFilter::All, 0).await.map(|_| ()),
                w.ts.target_reports(&p, queued).await.map(|_| ()),
                w.ts.assign(&p, queued, Some(p.user_id)).await,
                w.ts.escalate(&p, queued, "").await,
                w.ts.dismiss(&p, queued, "").await.map(|_| ()),
                w.ts.take_action(&p, action(queued, ActionKind::Remove, None))
                    .await
                    .map(|_| ()),
                w.ts.reverse_action(&p, a.id, "x").await.map(|_| ()),
                w.ts.pending_appeals(&p, 0).await.map(|_| ()),
                w.ts.decide_appeal(&p, appeal.id, true, "x")
                    .await
                    .map(|_| ()),
                w.ts.audit(&p, AuditQuery::default()).await.map(|_| ()),
                w.ts.rules(&p).await.map(|_| ()),
                w.ts.save_rule(&p, keyword_rule(&["x"], false, RuleOutcome::Hold))
                    .await
                    .map(|_| ()),
                w.ts.rule_history(&p, rule.id).await.map(|_| ()),
            ];
            for (i, r) in kinds.into_iter().enumerate() {
                assert_eq!(r.unwrap_err().kind(), &ErrorKind::NotFound, "call {i}");
            }
        }
        // Nothing changed.
        assert_eq!(w.ts.queue(&m, QueueFilter::All, 0).await.unwrap().len(), 1);
        assert_eq!(w.ts.actions_in_force(&[post]).await.unwrap().len(), 1);
        assert_eq!(w.ts.rules(&m).await.unwrap().len(), 1);
    }

    pub async fn rules_are_versioned_audited_and_reloaded_by_replicas(db: Db) {
        let w = world(db.clone());
        let replica = world(db);
        replica.ts.reload_rules().await.unwrap();
        let m = moderator();

        // Bad rules name the field.
        for (bad, field) in [
            (
                RuleDraft {
                    body: RuleBody::Regex {
                        pattern: "(unclosed".into(),
                    },
                    ..keyword_rule(&["a"], false, RuleOutcome::Hold)
                },
                "body.pattern",
            ),
            (
                RuleDraft {
                    body: RuleBody::Regex {
                        pattern: r"\w{1000}\w{1000}\w{1000}".into(),
                    },
                    ..keyword_rule(&["a"], false, RuleOutcome::Hold)
                },
                "body.pattern",
            ),
            (
                RuleDraft {
                    public_reason: String::new(),
                    ..keyword_rule(&["a"], false, RuleOutcome::Reject)
                },
                "public_reason",
            ),
            (keyword_rule(&["a"], false, RuleOutcome::Allow), "outcome"),
            (
                RuleDraft {
                    body: RuleBody::MediaHashes {
                        hashes: vec![1],
                        max_distance: 40,
                    },
                    ..keyword_rule(&["a"], false, RuleOutcome::Hold)
                },
                "body.max_distance",
            ),
            (
                RuleDraft {
                    body: RuleBody::Domains {
                        domains: vec!["not a domain".into()],
                    },
                    ..keyword_rule(&["a"], false, RuleOutcome::Hold)
                },
                "body.domains",
            ),
        ] {
            let err = w.ts.save_rule(&m, bad).await.unwrap_err();
            assert_eq!(err.field(), Some(field));
        }
        assert!(w.ts.rules(&m).await.unwrap().is_empty());

        let v1 =
            w.ts.save_rule(&m, keyword_rule(&["casino"], false, RuleOutcome::Reject))
                .await
                .unwrap();
        assert_eq!(v1.version, 1);
        assert_eq!(
            w.ts.check(text("best Casino here")).await.unwrap().kind,
            VerdictKind::Reject
        );
        // The replica still has the old rules until it sees the event ...
        assert_eq!(
            replica
                .ts
                .check(text("best casino here"))
                .await
                .unwrap()
                .kind,
            VerdictKind::Allow
        );
        let events = outbox::store(&w.db).fetch_unpublished(100).await.unwrap();
        let changed = events
            .iter()
            .find(|e| e.event_type == nova_trust_safety::RULES_CHANGED)
            .unwrap();
        let payload = pb::RulesChanged::decode(changed.payload.as_slice()).unwrap();
        assert_eq!(payload.rule_id, v1.id.to_string());
        assert_eq!(payload.version, 1);
        // ... and reloads on it.
        replica.ts.reload_rules().await.unwrap();
        assert_eq!(
            replica
                .ts
                .check(text("best casino here"))
                .await
                .unwrap()
                .kind,
            VerdictKind::Reject
        );

        let v2 =
            w.ts.save_rule(
                &m,
                RuleDraft {
                    id: Some(v1.id),
                    enabled: false,
                    ..keyword_rule(&["casino"], false, RuleOutcome::Reject)
                },
            )
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(
            w.ts.check(text("casino")).await.unwrap().kind,
            VerdictKind::Allow
        );
        let history = w.ts.rule_history(&m, v1.id).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|r| (r.version, r.enabled))
                .collect::<Vec<_>>(),
            vec![(1, true), (2, false)]
        );
        let log =
            w.ts.audit(
                &m,
                AuditQuery {
                    subject: Some(format!("rule:{}", v1.id)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 2);
        assert!(
            log.iter()
                .all(|e| e.action == "rule.changed" && e.actor == Some(m.user_id))
        );
        assert_eq!(
            w.ts.save_rule(
                &m,
                RuleDraft {
                    id: Some(nova_trust_safety::RuleId::new()),
                    ..keyword_rule(&["x"], false, RuleOutcome::Hold)
                }
            )
            .await
            .unwrap_err()
            .kind(),
            &ErrorKind::NotFound
        );
    }

    pub async fn check_applies_keywords_regexes_domains_and_media_hashes(db: Db) {
        let w = world(db);
        let m = moderator();
        w.ts.save_rule(
            &m,
            keyword_rule(&["spam", "free money"], true, RuleOutcome::Reject),
        )
        .await
        .unwrap();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "spoilers".into(),
                body: RuleBody::Keywords {
                    phrases: vec!["ending revealed".into()],
                    fold: false,
                },
                outcome: RuleOutcome::Label(ContentLabel::Spoiler),
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "card numbers".into(),
                body: RuleBody::Regex {
                    pattern: r"\b\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}\b".into(),
                },
                outcome: RuleOutcome::Hold,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "bad links".into(),
                body: RuleBody::Domains {
                    domains: vec!["evil.example".into(), "short.link".into()],
                },
                outcome: RuleOutcome::Reject,
                public_reason: "Links to this site are not allowed.".into(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "good subdomain".into(),
                body: RuleBody::Domains {
                    domains: vec!["docs.evil.example".into()],
                },
                outcome: RuleOutcome::Allow,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        let known_bad: u64 = 0xF0F0_1234_ABCD_9876;
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "known bad images".into(),
                body: RuleBody::MediaHashes {
                    hashes: vec![known_bad, 0x0123_4567_89AB_CDEF],
                    max_distance: 8,
                },
                outcome: RuleOutcome::Hold,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();

        let kind = |t: &str| {
            let ts = &w.ts;
            let t = t.to_owned();
            async move { ts.check(text(&t)).await.unwrap() }
        };
        // Keywords, with folding of look-alikes and leet speak, whole words only.
        for variant in ["SPAM!", "ṡpam", "sp4m", "ѕраm", "get fr33 m0ney"] {
            let v = kind(variant).await;
            assert_eq!(v.kind, VerdictKind::Reject, "{variant}");
            assert_eq!(v.reason.as_deref(), Some("This breaks our spam rules."));
        }
        assert_eq!(kind("spammer and antispam").await.kind, VerdictKind::Allow);
        let v = kind("the ending revealed at last").await;
        assert_eq!(v.kind, VerdictKind::Label);
        assert_eq!(v.labels, vec![ContentLabel::Spoiler]);
        assert_eq!(
            kind("the 3nding r3vealed").await.kind,
            VerdictKind::Allow,
            "no folding there"
        );
        // Regexes.
        assert_eq!(
            kind("card 1234 5678 9012 3456").await.kind,
            VerdictKind::Hold
        );
        // Domains: suffix match on hosts in URLs only, a more specific allow wins.
        let v = kind("look https://www.EVIL.example/x").await;
        assert_eq!(v.kind, VerdictKind::Reject);
        assert_eq!(
            v.reason.as_deref(),
            Some("Links to this site are not allowed.")
        );
        assert_eq!(kind("see short.link/abc").await.kind, VerdictKind::Reject);
        assert_eq!(
            kind("see https://docs.evil.example/guide").await.kind,
            VerdictKind::Allow
        );
        assert_eq!(
            kind("notevil.example.org and evil example").await.kind,
            VerdictKind::Allow
        );
        // The strictest outcome wins.
        assert_eq!(
            kind("spam and 1234-5678-9012-3456").await.kind,
            VerdictKind::Reject
        );

        // Media: near-duplicates (a few bits off) are held, unrelated hashes pass.
        let near = known_bad ^ 0b1011_0000_0000_0001_0000_0000_1000_0000;
        let hold =
            w.ts.check(CheckInput {
                media_hashes: vec![near],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hold.kind, VerdictKind::Hold);
        let far = !known_bad;
        let pass =
            w.ts.check(CheckInput {
                media_hashes: vec![far, 0x5555_5555_5555_5555],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(pass.kind, VerdictKind::Allow);
        let err = w.ts.check(text(&"x".repeat(70_000))).await.unwrap_err();
        assert_eq!(err.field(), Some("text"));
    }

    pub async fn velocity_and_duplicate_rules_hold_a_spam_wave(db: Db) {
        let w = world(db);
        let m = moderator();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "new accounts".into(),
                body: RuleBody::Velocity {
                    new_account_seconds: 600,
                    max_posts: 5,
                    window_seconds: 600,
                    no_links_seconds: 3600,
                },
                outcome: RuleOutcome::Hold,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        w.ts.save_rule(
            &m,
            RuleDraft {
                id: None,
                name: "copy-paste".into(),
                body: RuleBody::Duplicate {
                    accounts: 3,
                    window_seconds: 300,
                    min_chars: 10,
                },
                outcome: RuleOutcome::Hold,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
        let now = w.clock_now();
        let post = |author: UserId, created: chrono::DateTime<Utc>, t: &str| CheckInput {
            author: Some(author),
            account_created_at: Some(created),
            text: t.into(),
            ..Default::default()
        };

        // A fresh account: five posts pass, the sixth is held; links are held for an hour.
        let fresh = UserId::new();
        for i in 0..5 {
            let v =
                w.ts.check(post(fresh, now, &format!("hello number {i}")))
                    .await
                    .unwrap();
            assert_eq!(v.kind, VerdictKind::Allow, "post {i}");
        }
        assert_eq!(
            w.ts.check(post(fresh, now, "one more")).await.unwrap().kind,
            VerdictKind::Hold
        );
        let young = UserId::new();
        let half_hour = now - Duration::minutes(30);
        assert_eq!(
            w.ts.check(post(young, half_hour, "see https://a.example"))
                .await
                .unwrap()
                .kind,
            VerdictKind::Hold
        );
        assert_eq!(
            w.ts.check(post(young, half_hour, "no link here"))
                .await
                .unwrap()
                .kind,
            VerdictKind::Allow
        );
        // An old account is not limited.
        let old = UserId::new();
        for i in 0..10 {
            let v =
                w.ts.check(post(
                    old,
                    now - Duration::days(30),
                    &format!("regular post {i} https://a.example"),
                ))
                .await
                .unwrap();
            assert_eq!(v.kind, VerdictKind::Allow);
        }

        // A scripted wave: the same text (trivially varied) from many old accounts.
        let wave = [
            "Win a FREE phone at our store!!",
            "win a free phone at our store",
            "WIN A FREE PHONE AT OUR STORE",
        ];
        let mut kinds = Vec::new();
        for i in 0..6 {
            let v =
                w.ts.check(post(UserId::new(), now - Duration::days(90), wave[i % 3]))
                    .await
                    .unwrap();
            kinds.push(v.kind);
        }
        assert_eq!(
            kinds,
            vec![
                VerdictKind::Allow,
                VerdictKind::Allow,
                VerdictKind::Hold,
                VerdictKind::Hold,
                VerdictKind::Hold,
                VerdictKind::Hold
            ]
        );
        // The same account repeating itself is not a wave; short texts are ignored.
        let repeater = UserId::new();
        for _ in 0..5 {
            let v =
                w.ts.check(post(
                    repeater,
                    now - Duration::days(90),
                    "my own repeated words",
                ))
                .await
                .unwrap();
            assert_eq!(v.kind, VerdictKind::Allow);
        }
        for _ in 0..5 {
            let v =
                w.ts.check(post(UserId::new(), now - Duration::days(90), "thanks!"))
                    .await
                    .unwrap();
            assert_eq!(v.kind, VerdictKind::Allow);
        }
        // After the window the text is fresh again.
        w.clock.advance(Duration::minutes(6));
        let v =
            w.ts.check(post(UserId::new(), now - Duration::days(90), wave[0]))
                .await
                .unwrap();
        assert_eq!(v.kind, VerdictKind::Allow);
    }
}

impl World {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        nova_core::Clock::now(&self.clock)
    }
}

nova_testkit::db_conformance_suite!(suite:
    reports_are_validated_deduplicated_and_rate_limited,
    chat_reports_keep_only_shared_evidence,
    queue_orders_by_priority_and_handles_assignment_and_escalation,
    actions_close_reports_publish_events_and_are_enforceable,
    appeals_need_a_different_moderator_and_reverse_the_action,
    audit_log_refuses_update_and_delete,
    non_moderators_get_not_found_from_every_moderation_call,
    rules_are_versioned_audited_and_reloaded_by_replicas,
    check_applies_keywords_regexes_domains_and_media_hashes,
    velocity_and_duplicate_rules_hold_a_spam_wave,
);
