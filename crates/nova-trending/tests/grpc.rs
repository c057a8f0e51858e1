//! Trending over the wire: a tonic server on 127.0.0.1 serves the in-process service and
//! [`TrendingGrpcClient`] drives it through [`TrendingApi`]; Review needs a moderator.
//! The public REST route answers the same top-K.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use nova_auth::Authenticator;
use nova_core::{
    ErrorKind, ManualClock, Principal, Result, SessionId, SharedClock, Timestamp, UserId,
};
use nova_trending::grpc::{TrendingGrpcClient, TrendingGrpcServer};
use nova_trending::{
    Code, Engagement, EngagementKind, EntityKey, ReviewState, Scope, TrendingApi, TrendingConfig,
    TrendingService,
};
use tonic::transport::Endpoint;
use tonic::transport::server::TcpIncoming;
use tower::ServiceExt;

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

/// The principal of each test token: `mod` (scope `moderator`), `admin` (scope `admin`)
/// and `user` (a plain user).
fn principal(token: &str) -> Option<Principal> {
    let (n, scope) = match token {
        "user" => (1, None),
        "mod" => (2, Some("moderator")),
        "admin" => (3, Some("admin")),
        _ => return None,
    };
    let id = UserId::from(uuid::Uuid::from_u128(n));
    let mut p = Principal::user(id, SessionId::from(id.as_uuid()));
    p.scopes.extend(scope.map(str::to_owned));
    Some(p)
}

struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        principal(bearer).ok_or_else(|| nova_core::Error::from_kind(ErrorKind::Unauthenticated))
    }
}

fn events() -> Vec<Engagement> {
    let en = Code::new("en");
    let mut out = Vec::new();
    // #quiet once a day ago; #storm liked by 12 accounts in the last hour; a post too.
    out.push(Engagement {
        entity: EntityKey::hashtag("quiet"),
        account: 1,
        kind: EngagementKind::Like,
        at: t(0),
        lang: en,
        region: None,
    });
    for account in 1..=12u128 {
        for entity in [
            EntityKey::hashtag("storm"),
            EntityKey::post(uuid::Uuid::from_u128(7)),
        ] {
            out.push(Engagement {
                entity,
                account: account << 64 | 0xabc,
                kind: EngagementKind::Repost,
                at: t(86_400 - 120 * account as i64),
                lang: en,
                region: Code::new("BR"),
            });
        }
    }
    out
}

#[tokio::test]
async fn trending_over_the_wire_matches_the_service_and_review_needs_a_moderator() {
    let test = nova_testkit::sqlite().await;
    let clock = Arc::new(ManualClock::new(t(0)));
    let shared: SharedClock = clock.clone();
    let service = Arc::new(
        TrendingService::start(
            TrendingConfig::default(),
            nova_trending::store::store(test.db()),
            shared,
        )
        .await
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let channel = Endpoint::from_shared(format!("http://{}", listener.local_addr().unwrap()))
        .unwrap()
        .connect_lazy();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                TrendingGrpcServer::new(service.clone(), Arc::new(TestAuth)).into_service(),
            )
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = TrendingGrpcClient::from_channel(channel);

    let events = events();
    assert_eq!(client.ingest(&events).await.unwrap(), events.len());
    clock.set(t(86_400));
    let storm = EntityKey::hashtag("storm");
    let post = EntityKey::post(uuid::Uuid::from_u128(7));

    // Reads through the client equal the service's.
    let trends = client.trends(Scope::Global, 10).await.unwrap();
    assert_eq!(trends, service.trends(Scope::Global, 10).await.unwrap());
    assert!(
        trends.iter().any(|t| t.entity == storm && t.accounts == 12),
        "{trends:?}"
    );
    let br = Scope::Region(Code::new("BR").unwrap());
    let top = client.top(br, "24h", 5).await.unwrap();
    assert_eq!(top, service.top(br, "24h", 5).await.unwrap());
    assert_eq!(top.len(), 2);
    assert!(client.velocity(storm).await.unwrap() > 10.0);
    assert!(
        client
            .top(Scope::Global, "24h", 0)
            .await
            .unwrap()
            .is_empty()
    );

    // Bad input is InvalidArgument naming the problem.
    let err = client.top(Scope::Global, "5y", 5).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
        "{err}"
    );

    // Review: no token, a plain user, then a moderator and an admin.
    let (user, moderator, admin) = (
        principal("user").unwrap(),
        principal("mod").unwrap(),
        principal("admin").unwrap(),
    );
    let err = client
        .review(&user, post, ReviewState::Hidden)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let err = client
        .with_token("user")
        .review(&user, post, ReviewState::Hidden)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
    assert_eq!(
        client.top(br, "24h", 5).await.unwrap().len(),
        2,
        "nothing hidden yet"
    );
    client
        .with_token("mod")
        .review(&moderator, post, ReviewState::Hidden)
        .await
        .unwrap();
    let top = client.top(br, "24h", 5).await.unwrap();
    assert_eq!(
        top.iter().map(|r| r.entity).collect::<Vec<_>>(),
        vec![storm]
    );
    client
        .with_token("admin")
        .review(&admin, post, ReviewState::Approved)
        .await
        .unwrap();
    assert_eq!(client.top(br, "24h", 5).await.unwrap().len(), 2);

    // The in-process service checks the principal itself too.
    let err = service
        .review(&user, post, ReviewState::Hidden)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied);

    // REST: public, same answer.
    let app = nova_trending::http::router(service.clone());
    let response = app
        .clone()
        .oneshot(
            Request::get("/api/v1/trending?scope=region:BR&window=24h&limit=5")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["scope"], "region:BR");
    assert_eq!(json["top"][0]["entity"], top[0].entity.to_string());
    assert_eq!(json["top"].as_array().unwrap().len(), 2);
    let response = app
        .clone()
        .oneshot(
            Request::get("/api/v1/trending")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["scope"], "global");
    assert!(
        json["trends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["entity"] == storm.to_string())
    );
    for bad in [
        "/api/v1/trending?scope=planet:mars",
        "/api/v1/trending?limit=0",
        "/api/v1/trending?window=5y",
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(bad).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn ingest_over_the_cap_is_refused_naming_the_field_and_the_client_chunks() {
    use nova_proto::nova::ranking::v1 as pb;
    use nova_trending::grpc::MAX_INGEST;
    let test = nova_testkit::sqlite().await;
    let shared: SharedClock = Arc::new(ManualClock::new(t(0)));
    let service = Arc::new(
        TrendingService::start(
            TrendingConfig::default(),
            nova_trending::store::store(test.db()),
            shared,
        )
        .await
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let channel = Endpoint::from_shared(format!("http://{}", listener.local_addr().unwrap()))
        .unwrap()
        .connect_lazy();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TrendingGrpcServer::new(service, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let engagement = |i: usize| Engagement {
        entity: EntityKey::hashtag("storm"),
        account: i as u128,
        kind: EngagementKind::Like,
        at: t(0),
        lang: Code::new("en"),
        region: None,
    };

    // One over the cap on the raw wire: refused before any work, naming the field.
    let mut raw = pb::trending_service_client::TrendingServiceClient::new(channel.clone());
    let over = pb::IngestRequest {
        events: vec![pb::Engagement::default(); MAX_INGEST + 1],
    };
    let status = raw.ingest(over).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert_eq!(
        status
            .metadata()
            .get("nova-field")
            .unwrap()
            .to_str()
            .unwrap(),
        "events"
    );

    // At the cap one call works; the client splits anything bigger.
    let client = TrendingGrpcClient::from_channel(channel);
    let at_cap: Vec<Engagement> = (0..MAX_INGEST).map(engagement).collect();
    client.ingest(&at_cap).await.unwrap();
    let over: Vec<Engagement> = (0..=MAX_INGEST).map(engagement).collect();
    client.ingest(&over).await.unwrap();
}
