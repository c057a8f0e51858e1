//! Content over REST: create, read (anonymous and authenticated), like, thread, timeline,
//! and 400s naming the field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use nova_auth::Authenticator;
use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{ErrorKind, Principal, SessionId, SystemClock, UserId};
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::SocialService;
use nova_social::store::SqlSocialStore;
use nova_user::UserService;
use nova_user::store::SqlUserStore;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Bearer tokens in these tests are user ids: the real verifiers are tested in
/// nova-identity; here the subject is the content routes.
struct IdTokens;

#[async_trait]
impl Authenticator for IdTokens {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = UserId::parse_field(bearer, "authorization")
            .map_err(|_| nova_core::Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(Principal::user(id, SessionId::new()))
    }
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    token: Option<UserId>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Content's REST routes on `db`, with its social, graph and users neighbours in-process.
fn app_on(db: &nova_db::Db) -> axum::Router {
    let cursors = CursorCodec::new(b"test key, long enough for hmac!!");
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        cursors.clone(),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = Arc::new(SocialService::new(
        graph.clone(),
        users.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    ));
    let content: Arc<dyn ContentApi> = Arc::new(ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        Arc::new(SocialAudience::new(social, graph, users)),
        cursors,
    ));
    nova_content::http::router(content, Arc::new(IdTokens))
}

#[tokio::test]
async fn posts_over_http() {
    let backend = nova_testkit::sqlite().await;
    let db = backend.db().clone();
    let app = app_on(&db);
    let ann = nova_identity::fixtures::account(&db, "ann")
        .await
        .unwrap()
        .user_id;
    let bob = nova_identity::fixtures::account(&db, "bob")
        .await
        .unwrap()
        .user_id;

    let (status, post) = call(
        &app,
        "POST",
        "/api/v1/posts",
        Some(json!({"text": "hello #nova"})),
        Some(ann),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/posts",
            Some(json!({"text": "x"})),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, err) = call(
        &app,
        "POST",
        "/api/v1/posts",
        Some(json!({"text": 5})),
        Some(ann),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("text"))
    );
    let (status, err) = call(
        &app,
        "POST",
        "/api/v1/posts",
        Some(json!({"text": "x".repeat(501)})),
        Some(ann),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("text"))
    );
    assert_eq!(
        call(&app, "GET", "/api/v1/posts/not-an-id", None, None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let (status, read) = call(&app, "GET", &format!("/api/v1/posts/{id}"), None, None).await;
    assert_eq!(
        (status, read["text"].as_str()),
        (StatusCode::OK, Some("hello #nova"))
    );
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("/api/v1/posts/{id}/like"),
            None,
            Some(bob)
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, read) = call(&app, "GET", &format!("/api/v1/posts/{id}"), None, Some(bob)).await;
    assert_eq!(
        (
            read["like_count"].as_i64(),
            read["liked_by_viewer"].as_bool()
        ),
        (Some(1), Some(true))
    );
    let reply = json!({"text": "nice", "reply_to": id});
    assert_eq!(
        call(&app, "POST", "/api/v1/posts", Some(reply), Some(bob))
            .await
            .0,
        StatusCode::CREATED
    );
    let (_, thread) = call(
        &app,
        "GET",
        &format!("/api/v1/posts/{id}/thread"),
        None,
        None,
    )
    .await;
    assert_eq!(thread["items"].as_array().map(Vec::len), Some(1));
    let (_, timeline) = call(
        &app,
        "GET",
        &format!("/api/v1/users/{ann}/posts?first=10"),
        None,
        None,
    )
    .await;
    assert_eq!(timeline["items"][0]["id"].as_str(), Some(id.as_str()));
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("/api/v1/users/{ann}/posts?kind=stories"),
            None,
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &app,
            "DELETE",
            &format!("/api/v1/posts/{id}"),
            None,
            Some(bob)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &app,
            "DELETE",
            &format!("/api/v1/posts/{id}"),
            None,
            Some(ann)
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, "GET", &format!("/api/v1/posts/{id}"), None, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// POST /api/v1/posts carrying `guard` as nova-runtime's stack hands it to every request.
async fn create_with(
    app: &axum::Router,
    guard: &nova_kv::edge::EdgeGuard,
    author: UserId,
) -> StatusCode {
    let mut req = Request::post("/api/v1/posts")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {author}"))
        .body(Body::from(json!({"text": "again"}).to_string()))
        .unwrap();
    req.extensions_mut().insert(guard.clone());
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn rest_post_creation_spends_the_gateways_post_budget() {
    use nova_kv::edge::{Charge, EdgeGuard, EdgeLimits};

    let backend = nova_testkit::sqlite().await;
    let db = backend.db().clone();
    let app = app_on(&db);
    let ann = nova_identity::fixtures::account(&db, "ann")
        .await
        .unwrap()
        .user_id;
    let guard = EdgeGuard::new(
        nova_kv::Kv::in_process().rate_limiter,
        EdgeLimits::default(),
    );
    // 29 posts through GraphQL (the gateway charges the same guard), then REST.
    let budget = guard.limits().post_creation.limit;
    for _ in 1..budget {
        guard
            .charge(None, Some(ann), Charge::posts(1))
            .await
            .unwrap();
    }
    assert_eq!(create_with(&app, &guard, ann).await, StatusCode::CREATED);
    assert_eq!(
        create_with(&app, &guard, ann).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without a guard from the runtime the routes are still limited (per process).
    for _ in 0..budget {
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/posts",
            Some(json!({"text": "x"})),
            Some(ann),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/posts",
        Some(json!({"text": "x"})),
        Some(ann),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}
