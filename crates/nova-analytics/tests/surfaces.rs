//! The REST routes (in-process, `tower::oneshot`), the gRPC server + client (over
//! 127.0.0.1) and the write buffer, in front of the real service on SQLite: bad batches
//! (413 over 500 events, 400 naming the index and field, nothing stored), replays that
//! count once, the per-caller rate limit, insights for their author only, and a buffer
//! that drains every acknowledged event at shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use nova_analytics::grpc::{AnalyticsGrpcClient, AnalyticsGrpcServer};
use nova_analytics::store::{AnalyticsStore, SqlAnalyticsStore};
use nova_analytics::{AnalyticsApi, AnalyticsService, BufferConfig, ClientEvent, EventKind};
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_events::EventEnvelope;
use nova_kv::{InProcessRateLimiter, Quota};
use prost::Message;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Tokens are `t-<user id>`.
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(Principal::user(id, SessionId::from(id.as_uuid())))
    }
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    user: Option<UserId>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req.header("authorization", format!("Bearer t-{u}"));
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
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn impressions(prefix: &str, post: &str, n: usize) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("{prefix}{i}"), "type": "impression", "post_id": post}))
        .collect();
    json!({ "events": events })
}

async fn world() -> (nova_testkit::TestSqlite, Arc<dyn AnalyticsStore>) {
    let backend = nova_testkit::sqlite().await;
    let store: Arc<dyn AnalyticsStore> = Arc::new(SqlAnalyticsStore::new(backend.db().clone()));
    (backend, store)
}

/// `author`'s post `post`, from the event log.
async fn authored(analytics: &AnalyticsService, author: UserId, post: &str) {
    let created = nova_proto::nova::content::v1::PostCreated {
        post_id: post.into(),
        author_id: author.to_string(),
        ..Default::default()
    };
    let e = EventEnvelope::new(
        "post.created",
        post,
        chrono::Utc::now(),
        created.encode_to_vec(),
    );
    analytics.ingest(&[e]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_batches_are_validated_deduplicated_and_limited() {
    let (_backend, store) = world().await;
    let analytics = Arc::new(
        AnalyticsService::new(store.clone())
            .with_k_anonymity(1)
            .with_rate_limit(
                Arc::new(InProcessRateLimiter::default()),
                Quota::per_minute(5),
            ),
    );
    let app = nova_analytics::http::router(analytics.clone(), Arc::new(TestAuth));
    let (ann, bob, eve) = (UserId::new(), UserId::new(), UserId::new());
    authored(&analytics, ann, "ann-1").await;

    // 501 events: 413, nothing stored.
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/analytics/events",
        Some(bob),
        Some(impressions("x", "ann-1", 501)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // An unknown type, an unknown field, a missing post id: 400 naming index and field.
    for (event, field) in [
        (
            json!({"id": "a", "type": "click", "post_id": "ann-1"}),
            "events[1].type",
        ),
        (
            json!({"id": "a", "type": "view", "post_id": "ann-1", "ip": "10.0.0.1"}),
            "events[1].ip",
        ),
        (json!({"id": "a", "type": "view"}), "events[1].post_id"),
        (
            json!({"id": 7, "type": "view", "post_id": "ann-1"}),
            "events[1].id",
        ),
        (
            json!({"id": "a", "type": "view", "post_id": "ann-1", "at": "yesterday"}),
            "events[1].at",
        ),
    ] {
        let batch = json!({"events": [{"id": "ok", "type": "view", "post_id": "ann-1"}, event]});
        let (status, body) = send(
            &app,
            "POST",
            "/api/v1/analytics/events",
            Some(bob),
            Some(batch),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/analytics/events",
        None,
        Some(json!({"events": [], "extra": 1})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("extra"))
    );

    // A batch from bob, replayed; an anonymous batch.
    for _ in 0..2 {
        let (status, body) = send(
            &app,
            "POST",
            "/api/v1/analytics/events",
            Some(bob),
            Some(impressions("b", "ann-1", 3)),
        )
        .await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (StatusCode::ACCEPTED, Some(3))
        );
    }
    let anonymous = json!({"events": [{"id": "n1", "type": "impression", "post_id": "ann-1", "anonymous_id": "device-1"}]});
    let (status, _) = send(
        &app,
        "POST",
        "/api/v1/analytics/events",
        None,
        Some(anonymous),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    analytics.buffer().flush().await.unwrap();

    let (status, body) = send(
        &app,
        "GET",
        "/api/v1/analytics/posts/ann-1",
        Some(ann),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["impressions"], json!({"min": 4, "max": 4}), "{body}");
    assert_eq!(body["reach"], json!({"min": 2, "max": 2}), "{body}");
    // Nobody else's, nor anonymous.
    let (status, _) = send(
        &app,
        "GET",
        "/api/v1/analytics/posts/ann-1",
        Some(bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&app, "GET", "/api/v1/analytics/posts/ann-1", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&app, "GET", "/api/v1/analytics/admin", Some(ann), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(&app, "GET", "/api/v1/analytics/me?days=x", Some(ann), None).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("days"))
    );
    let (status, body) = send(&app, "GET", "/api/v1/analytics/me?days=7", Some(ann), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["followers"].as_array().unwrap().len(), 7);

    // Five batches a minute per caller: eve's sixth is refused, bob (two used) is not.
    for i in 0..5 {
        let (status, _) = send(
            &app,
            "POST",
            "/api/v1/analytics/events",
            Some(eve),
            Some(impressions(&format!("e{i}-"), "ann-1", 1)),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (status, _) = send(
        &app,
        "POST",
        "/api/v1/analytics/events",
        Some(eve),
        Some(impressions("e9-", "ann-1", 1)),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = send(
        &app,
        "POST",
        "/api/v1/analytics/events",
        Some(bob),
        Some(impressions("b9-", "ann-1", 1)),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_client_and_server_answer_like_the_service() {
    let (_backend, store) = world().await;
    let analytics = Arc::new(AnalyticsService::new(store).with_k_anonymity(1));
    let (ann, bob) = (UserId::new(), UserId::new());
    authored(&analytics, ann, "ann-1").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = AnalyticsGrpcServer::new(analytics.clone(), Arc::new(TestAuth)).into_service();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let client = AnalyticsGrpcClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let as_ann = client.with_token(format!("t-{ann}"));
    let as_bob = client.with_token(format!("t-{bob}"));
    let who = |u: UserId| Principal::user(u, SessionId::from(u.as_uuid()));

    let seen = ClientEvent {
        id: "g1".into(),
        kind: EventKind::Impression,
        post_id: "ann-1".into(),
        at: None,
        anonymous_id: Some("d".into()),
    };
    assert_eq!(
        client.record(None, vec![seen.clone(), seen]).await.unwrap(),
        2
    );
    analytics.buffer().flush().await.unwrap();
    let i = as_ann
        .post_insights(Some(&who(ann)), "ann-1")
        .await
        .unwrap();
    assert_eq!((i.impressions.max, i.reach.max, i.series.len()), (1, 1, 48));
    let err = as_bob
        .post_insights(Some(&who(bob)), "ann-1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let err = client.post_insights(None, "ann-1").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let me = as_ann.account_insights(Some(&who(ann)), 3).await.unwrap();
    assert_eq!((me.followers.len(), me.top_posts.len()), (3, 1));
    let err = as_ann
        .admin_stats(Some(&who(ann)), None, 0, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_every_acknowledged_event() {
    let (_backend, store) = world().await;
    // Nothing flushes on its own: an hour's interval, batches larger than the stream.
    let config = BufferConfig {
        capacity: 50_000,
        batch: 1_000_000,
        interval: Duration::from_secs(3600),
    };
    let analytics = AnalyticsService::with_buffer(store.clone(), config);
    let mut acknowledged = 0;
    for b in 0..40 {
        let batch: Vec<ClientEvent> = (0..250)
            .map(|i| ClientEvent {
                id: format!("{b}-{i}"),
                kind: EventKind::Impression,
                post_id: format!("p{}", i % 10),
                at: None,
                anonymous_id: Some(format!("d{i}")),
            })
            .collect();
        acknowledged += analytics.record(None, batch).await.unwrap();
    }
    assert_eq!(acknowledged, 10_000);
    assert_eq!(
        analytics
            .buffer()
            .stats()
            .depth
            .load(std::sync::atomic::Ordering::Relaxed),
        10_000
    );
    let day = nova_analytics::model::day_of(chrono::Utc::now());
    assert!(
        store
            .daily_count("impression", day - 1, day + 1)
            .await
            .unwrap()
            .is_empty()
    );

    analytics.buffer().shutdown().await;
    let counted: u64 = store
        .daily_count("impression", day - 1, day + 1)
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(counted, 10_000);
    // After shutdown nothing more is taken (so nothing is acknowledged and lost).
    let late = ClientEvent {
        id: "late".into(),
        kind: EventKind::View,
        post_id: "p1".into(),
        at: None,
        anonymous_id: None,
    };
    let err = analytics.record(None, vec![late]).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
}
