#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The trust & safety gRPC adapters end to end: a real tonic server on 127.0.0.1 over
//! the real service on SQLite, driven through `TrustSafetyGrpcClient` as another
//! service would.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, MessageId, PostId, Principal, SessionId, UserId};
use nova_trust_safety::grpc::{MAX_TARGETS, TrustSafetyGrpcClient, TrustSafetyGrpcServer};
use nova_trust_safety::store::SqlTrustSafetyStore;
use nova_trust_safety::{
    ActionKind, AppealStatus, AuditQuery, CheckInput, ContentLabel, Evidence, NewAction, NewReport,
    QueueFilter, ReportReason, RuleBody, RuleDraft, RuleOutcome, Target, TrustSafetyApi,
    TrustSafetyService, VerdictKind,
};
use tonic::transport::server::TcpIncoming;

/// Tokens are `t-<id>` (a user) or `m-<id>` (a moderator).
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let (role, id) = bearer
            .split_once('-')
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        let id: UserId = id
            .parse()
            .map_err(|_| Error::from_kind(ErrorKind::Unauthenticated))?;
        let mut p = principal(id);
        if role == "m" {
            p.scopes.push("moderator".into());
        }
        Ok(p)
    }
}

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

#[tokio::test]
async fn every_call_crosses_the_wire_and_errors_keep_their_kind() {
    let test = nova_testkit::sqlite().await;
    let service = TrustSafetyService::new(
        Arc::new(SqlTrustSafetyStore::new(test.db().clone())),
        Arc::new(nova_kv::InProcessRateLimiter::default()),
    );
    service.reload_rules().await.unwrap();
    let api: Arc<dyn TrustSafetyApi> = Arc::new(service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TrustSafetyGrpcServer::new(api, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = TrustSafetyGrpcClient::connect(endpoint).await.unwrap();

    let (reporter, author, m1, m2) = (UserId::new(), UserId::new(), UserId::new(), UserId::new());
    let as_reporter = client.with_token(format!("t-{reporter}"));
    let as_author = client.with_token(format!("t-{author}"));
    let as_m1 = client.with_token(format!("m-{m1}"));
    let as_m2 = client.with_token(format!("m-{m2}"));
    let (p_reporter, p_author) = (principal(reporter), principal(author));
    let (p_m1, p_m2) = (principal(m1), principal(m2));

    // Without a token nothing is sent.
    let err = client.my_reports(&p_reporter).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

    // ActionsInForce at the cap works; one over is refused before any work.
    let at_cap: Vec<Target> = (0..MAX_TARGETS)
        .map(|_| Target::chat_message(MessageId::new()))
        .collect();
    assert!(client.actions_in_force(&at_cap).await.unwrap().is_empty());
    let over = [at_cap.as_slice(), &[Target::chat_message(MessageId::new())]].concat();
    let err = client.actions_in_force(&over).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
        "{err:?}"
    );
    assert_eq!(err.field(), Some("targets"), "{err:?}");

    // A chat report with shared evidence.
    let msg = Target::chat_message(MessageId::new());
    let evidence = Evidence {
        ciphertext_id: Some("ct-9".into()),
        shared_text: Some("threat".into()),
    };
    let filed = as_reporter
        .report(
            &p_reporter,
            NewReport {
                target: msg,
                reason: ReportReason::Violence,
                text: "scary".into(),
                evidence: Some(evidence.clone()),
            },
        )
        .await
        .unwrap();
    assert_eq!(filed.evidence, Some(evidence));
    let err = as_reporter
        .report(
            &p_reporter,
            NewReport {
                target: Target::post(PostId::new()),
                reason: ReportReason::Spam,
                text: "x".repeat(1001),
                evidence: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("text"), "the field survives the wire");

    // A plain user is told nothing exists.
    let err = as_reporter
        .queue(&p_reporter, QueueFilter::All, 0)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);

    let queue = as_m1.queue(&p_m1, QueueFilter::All, 0).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].target, msg);
    assert_eq!(
        as_m1.target_reports(&p_m1, msg).await.unwrap()[0].id,
        filed.id
    );
    as_m1.assign(&p_m1, msg, Some(m1)).await.unwrap();

    let post = Target::post(PostId::new());
    let labelled = as_m1
        .take_action(
            &p_m1,
            NewAction {
                target: post,
                kind: ActionKind::Label,
                label: Some(ContentLabel::Misleading),
                subject: Some(author),
                reason: "missing context".into(),
                note: "n".into(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(labelled.label, Some(ContentLabel::Misleading));
    let force = client.actions_in_force(&[post, msg]).await.unwrap();
    assert_eq!(force.len(), 1);
    assert_eq!(force[0].id, labelled.id);

    let strikes = as_author.strikes(&p_author).await.unwrap();
    assert_eq!(strikes[0].action.id, labelled.id);
    let appeal = as_author
        .appeal(&p_author, labelled.id, "it is accurate")
        .await
        .unwrap();
    assert_eq!(as_m2.pending_appeals(&p_m2, 0).await.unwrap().len(), 1);
    assert_eq!(
        as_m1
            .decide_appeal(&p_m1, appeal.id, true, "x")
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::PermissionDenied
    );
    let decided = as_m2
        .decide_appeal(&p_m2, appeal.id, true, "fair")
        .await
        .unwrap();
    assert_eq!(decided.status, AppealStatus::Granted);
    assert!(client.actions_in_force(&[post]).await.unwrap().is_empty());
    let reversed_again = as_m1
        .reverse_action(&p_m1, labelled.id, "x")
        .await
        .unwrap_err();
    assert_eq!(reversed_again.kind(), &ErrorKind::Conflict);

    // Rules: JSON bodies cross the wire, the check answers without a token.
    let rule = as_m1
        .save_rule(
            &p_m1,
            RuleDraft {
                id: None,
                name: "images".into(),
                body: RuleBody::MediaHashes {
                    hashes: vec![u64::MAX - 7],
                    max_distance: 6,
                },
                outcome: RuleOutcome::Hold,
                public_reason: String::new(),
                enabled: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(as_m1.rules(&p_m1).await.unwrap(), vec![rule.clone()]);
    assert_eq!(as_m1.rule_history(&p_m1, rule.id).await.unwrap().len(), 1);
    let v = client
        .check(CheckInput {
            media_hashes: vec![u64::MAX],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(v.kind, VerdictKind::Hold);
    assert_eq!(v.rules, vec![rule.id]);

    as_m1.escalate(&p_m1, msg, "for admins").await.unwrap();
    let log = as_m2.audit(&p_m2, AuditQuery::default()).await.unwrap();
    assert!(log.iter().any(|e| e.action == "queue.escalated"));
    assert_eq!(
        as_m1.dismiss(&p_m1, msg, "").await.unwrap_err().kind(),
        &ErrorKind::PermissionDenied,
        "escalated items are for admins"
    );
}
