#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The trust & safety REST routes over the real service on SQLite.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, PostId, Principal, SessionId, UserId};
use nova_trust_safety::store::SqlTrustSafetyStore;
use nova_trust_safety::{TrustSafetyApi, TrustSafetyService};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Tokens are `t-<id>` (a user), `m-<id>` (a moderator), `a-<id>` (an admin).
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
        let mut p = Principal::user(id, SessionId::new());
        match role {
            "t" => {}
            "m" => p.scopes.push("moderator".into()),
            "a" => p.scopes.push("admin".into()),
            _ => return Err(Error::from_kind(ErrorKind::Unauthenticated)),
        }
        Ok(p)
    }
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

async fn app() -> (Router, nova_testkit::TestSqlite) {
    let test = nova_testkit::sqlite().await;
    let service = TrustSafetyService::new(
        Arc::new(SqlTrustSafetyStore::new(test.db().clone())),
        Arc::new(nova_kv::InProcessRateLimiter::default()),
    );
    let api: Arc<dyn TrustSafetyApi> = Arc::new(service);
    (
        nova_trust_safety::http::router(api, Arc::new(TestAuth)),
        test,
    )
}

#[tokio::test]
async fn non_moderators_get_what_a_missing_route_answers_on_every_moderation_route() {
    let (app, _db) = app().await;
    let post = PostId::new();
    let target = json!({"kind": "post", "id": post.to_string()});
    let some_id = UserId::new().to_string();
    let moderation: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/moderation/queue".into(), None),
        (
            "GET",
            "/api/v1/moderation/queue?filter=escalated".into(),
            None,
        ),
        (
            "GET",
            format!("/api/v1/moderation/reports?kind=post&id={post}"),
            None,
        ),
        (
            "POST",
            "/api/v1/moderation/queue/assign".into(),
            Some(json!({"target": target})),
        ),
        (
            "POST",
            "/api/v1/moderation/queue/escalate".into(),
            Some(json!({"target": target, "note": "x"})),
        ),
        (
            "POST",
            "/api/v1/moderation/queue/dismiss".into(),
            Some(json!({"target": target})),
        ),
        (
            "POST",
            "/api/v1/moderation/actions".into(),
            Some(json!({"target": target, "kind": "remove", "reason": "x"})),
        ),
        (
            "POST",
            format!("/api/v1/moderation/actions/{some_id}/reverse"),
            Some(json!({"note": "x"})),
        ),
        ("GET", "/api/v1/moderation/appeals".into(), None),
        (
            "POST",
            format!("/api/v1/moderation/appeals/{some_id}/decide"),
            Some(json!({"grant": true, "note": "x"})),
        ),
        ("GET", "/api/v1/moderation/audit".into(), None),
        ("GET", "/api/v1/moderation/rules".into(), None),
        (
            "POST",
            "/api/v1/moderation/rules".into(),
            Some(
                json!({"name": "x", "body": {"type": "keywords", "phrases": ["x"]}, "outcome": {"type": "hold"}}),
            ),
        ),
        (
            "GET",
            format!("/api/v1/moderation/rules/{some_id}/history"),
            None,
        ),
        // Malformed input must not reveal the route either.
        (
            "POST",
            "/api/v1/moderation/actions".into(),
            Some(json!({"nonsense": true})),
        ),
        ("GET", "/api/v1/moderation/reports?kind=bogus".into(), None),
    ];
    let user = format!("t-{}", UserId::new());
    for (method, uri, body) in &moderation {
        let missing = call(
            &app,
            method,
            "/api/v1/moderation/no-such-route",
            None,
            body.as_ref(),
        )
        .await;
        assert_eq!(missing.0, StatusCode::NOT_FOUND);
        for token in [None, Some(user.as_str()), Some("garbage")] {
            let got = call(&app, method, uri, token, body.as_ref()).await;
            assert_eq!(got, missing, "{method} {uri} as {token:?}");
        }
    }
    // The routes are real: a moderator gets answers other than a missing route.
    let m = format!("m-{}", UserId::new());
    for (method, uri, body) in &moderation {
        let got = call(&app, method, uri, Some(&m), body.as_ref()).await;
        assert!(
            got.0 != StatusCode::NOT_FOUND || !got.1.is_empty(),
            "{method} {uri} answers a moderator like a missing route"
        );
    }
    let (status, body) = call(&app, "GET", "/api/v1/moderation/queue", Some(&m), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body), json!([]));
}

#[tokio::test]
async fn report_act_appeal_over_rest() {
    let (app, _db) = app().await;
    let reporter = format!("t-{}", UserId::new());
    let author_id = UserId::new();
    let author = format!("t-{author_id}");
    let (m1, m2) = (
        format!("m-{}", UserId::new()),
        format!("a-{}", UserId::new()),
    );
    let post = PostId::new();
    let target = json!({"kind": "post", "id": post.to_string()});

    // Bad input is a 400 naming the field.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/reports",
        Some(&reporter),
        Some(&json!({"target": target, "reason": "spam", "text": "x".repeat(1001)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&body)["error"]["field"], "text");
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/reports",
        None,
        Some(&json!({"target": target, "reason": "spam"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/reports",
        Some(&reporter),
        Some(&json!({"target": target, "reason": "harassment", "text": "mean"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );

    let (status, body) = call(&app, "GET", "/api/v1/moderation/queue", Some(&m1), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)[0]["report_count"], 1);

    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/moderation/actions",
        Some(&m1),
        Some(&json!({"target": target, "kind": "hide", "subject": author_id, "reason": "harassment"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let action_id = json_of(&body)["id"].as_str().unwrap().to_owned();

    let (_, body) = call(&app, "GET", "/api/v1/reports", Some(&reporter), None).await;
    assert_eq!(json_of(&body)[0]["outcome"], "actioned:hide");

    let (_, body) = call(&app, "GET", "/api/v1/appeals", Some(&author), None).await;
    assert_eq!(json_of(&body)[0]["action"]["reason"], "harassment");
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/appeals",
        Some(&author),
        Some(&json!({"action_id": action_id, "text": "context matters"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let appeal_id = json_of(&body)["id"].as_str().unwrap().to_owned();

    let decide = format!("/api/v1/moderation/appeals/{appeal_id}/decide");
    let (status, _) = call(
        &app,
        "POST",
        &decide,
        Some(&m1),
        Some(&json!({"grant": true, "note": "ok"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the acting moderator may not decide"
    );
    let (status, body) = call(
        &app,
        "POST",
        &decide,
        Some(&m2),
        Some(&json!({"grant": true, "note": "ok"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)["status"], "granted");

    let (_, body) = call(
        &app,
        "GET",
        &format!("/api/v1/moderation/audit?subject=post:{post}"),
        Some(&m2),
        None,
    )
    .await;
    assert_eq!(json_of(&body).as_array().unwrap().len(), 5);
}
