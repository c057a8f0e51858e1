//! The feed REST routes over the real services on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_feed::FeedApi;
use nova_social::SocialApi;
use serde_json::Value;
use tower::ServiceExt;

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(Principal::user(id, SessionId::new()))
    }
}

async fn get(app: &Router, uri: &str, user: Option<UserId>) -> (StatusCode, Value) {
    let mut req = Request::builder().uri(uri);
    if let Some(u) = user {
        req = req.header("authorization", format!("Bearer t-{u}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn home_catch_up_and_explore_over_rest() {
    let backend = nova_testkit::sqlite().await;
    let w = common::memory_world(backend.db().clone());
    let feed: Arc<dyn FeedApi> = w.feed.clone();
    let app = nova_feed::http::router(feed, Arc::new(TestAuth));
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    w.social.follow(&alice, bob.user_id).await.unwrap();
    let me = Some(alice.user_id);
    assert_eq!(get(&app, "/api/v1/feed/home", me).await.0, StatusCode::OK);
    w.deliver().await;
    let ids = [w.post(&bob, "one").await, w.post(&bob, "two").await];
    w.deliver().await;

    let (status, body) = get(&app, "/api/v1/feed/home?first=1", me).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"][0]["post"]["id"], ids[1].to_string());
    assert_eq!(body["items"][0]["reason"], "following");
    let cursor = body["next_cursor"].as_str().unwrap().to_owned();
    let (_, body) = get(
        &app,
        &format!("/api/v1/feed/home?first=1&after={cursor}"),
        me,
    )
    .await;
    assert_eq!(body["items"][0]["post"]["id"], ids[0].to_string());

    let (status, body) = get(&app, "/api/v1/feed/home?mode=ranked", me).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["items"][0]["score"].is_number());
    assert_eq!(
        get(&app, "/api/v1/feed/catch-up", me).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/api/v1/feed/explore", None).await.0,
        StatusCode::OK
    );

    assert_eq!(
        get(&app, "/api/v1/feed/home", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = get(&app, "/api/v1/feed/home?mode=sideways", me).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "mode");
    let (status, body) = get(&app, "/api/v1/feed/home?after=garbage", me).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "cursor");
}
