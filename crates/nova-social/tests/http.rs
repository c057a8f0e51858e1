#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The social REST routes over the real services on SQLite.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use nova_auth::Authenticator;
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, Principal, SessionId, SystemClock, UserId};
use nova_db::Db;
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::SocialService;
use nova_social::store::SqlSocialStore;
use nova_user::store::SqlUserStore;
use nova_user::{Settings, UserApi, UserService};
use serde_json::{Value, json};
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

async fn account(db: &Db, username: &str) -> UserId {
    nova_identity::fixtures::account(db, username)
        .await
        .unwrap()
        .user_id
}

struct Call<'a>(&'a Router);

impl Call<'_> {
    async fn send(
        &self,
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
        let res = self
            .0
            .clone()
            .oneshot(req.body(body).unwrap())
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
}

#[tokio::test]
async fn follows_requests_blocks_mutes_lists_and_block_lists_over_rest() {
    let test = nova_testkit::sqlite().await;
    let db = test.db().clone();
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        CursorCodec::new(b"test key, long enough for hmac!!"),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = SocialService::new(
        graph,
        users.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    );
    let app = nova_social::http::router(Arc::new(social), Arc::new(TestAuth));
    let c = Call(&app);
    let (ann, bob, cy) = (
        account(&db, "ann").await,
        account(&db, "bob").await,
        account(&db, "cy").await,
    );
    let private = Settings {
        private_account: true,
        ..Settings::default()
    };
    users
        .update_settings(&Principal::user(cy, SessionId::new()), private)
        .await
        .unwrap();

    // Public: follow at once. Private: a request, approved by its owner.
    let (status, _) = c
        .send("POST", &format!("/api/v1/social/follows/{bob}"), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, r) = c
        .send(
            "POST",
            &format!("/api/v1/social/follows/{bob}"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(
        (status, r["outcome"].as_str()),
        (StatusCode::OK, Some("following"))
    );
    let (_, r) = c
        .send(
            "POST",
            &format!("/api/v1/social/follows/{cy}"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(r["outcome"].as_str(), Some("requested"));
    let (status, e) = c
        .send("POST", "/api/v1/social/follows/bob", Some(ann), None)
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("user_id"))
    );

    // cy's lists are hidden from everyone cy has not approved, like a missing account.
    let cy_followers = format!("/api/v1/social/users/{cy}/followers");
    let (hidden, _) = c.send("GET", &cy_followers, Some(ann), None).await;
    let (missing, _) = c
        .send(
            "GET",
            &format!("/api/v1/social/users/{}/followers", UserId::new()),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(
        (hidden, missing),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    let (_, r) = c
        .send("GET", "/api/v1/social/requests", Some(cy), None)
        .await;
    assert_eq!(r["requests"][0]["requester_id"], json!(ann));
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/requests/{ann}/approve"),
            Some(cy),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, page) = c.send("GET", &cy_followers, Some(ann), None).await;
    assert_eq!(
        (status, page["items"].clone()),
        (StatusCode::OK, json!([ann]))
    );

    // Paging and its bad input; anonymous viewers see public lists.
    let (status, page) = c
        .send(
            "GET",
            &format!("/api/v1/social/users/{ann}/following?first=1"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, page["items"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    assert_eq!(page["has_next_page"], json!(true));
    let after = page["end_cursor"].as_str().unwrap();
    let (_, next) = c
        .send(
            "GET",
            &format!("/api/v1/social/users/{ann}/following?first=1&after={after}"),
            None,
            None,
        )
        .await;
    assert_eq!(next["has_next_page"], json!(false));
    let (status, e) = c
        .send(
            "GET",
            &format!("/api/v1/social/users/{ann}/following?first=x"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("first"))
    );

    // Remove a follower; then a block ends follows and forbids new ones.
    let (status, _) = c
        .send(
            "DELETE",
            &format!("/api/v1/social/followers/{ann}"),
            Some(cy),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    c.send(
        "POST",
        &format!("/api/v1/social/follows/{ann}"),
        Some(bob),
        None,
    )
    .await;
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/blocks/{ann}"),
            Some(bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = c
        .send(
            "GET",
            &format!("/api/v1/social/users/{ann}/following"),
            None,
            None,
        )
        .await;
    assert_eq!(page["items"], json!([]));
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/follows/{bob}"),
            Some(ann),
            None,
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = c
        .send(
            "DELETE",
            &format!("/api/v1/social/blocks/{ann}"),
            Some(bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Mutes with and without a body; bad bodies name the field.
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/mutes/{bob}"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let until = Utc::now() + chrono::Duration::days(1);
    let body = json!({"until": until, "reposts_only": true});
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/mutes/{bob}"),
            Some(ann),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, e) = c
        .send(
            "POST",
            &format!("/api/v1/social/mutes/{bob}"),
            Some(ann),
            Some(json!({"reposts_only": "yes"})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reposts_only"))
    );
    let (status, _) = c
        .send(
            "DELETE",
            &format!("/api/v1/social/mutes/{bob}"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Block lists: bob publishes one with cy; ann subscribes and can no longer follow cy.
    let (status, list) = c
        .send(
            "POST",
            "/api/v1/social/block-lists",
            Some(bob),
            Some(json!({"name": "spam"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let list = list["id"].as_str().unwrap().to_owned();
    let (status, _) = c
        .send(
            "PUT",
            &format!("/api/v1/social/block-lists/{list}/members/{cy}"),
            Some(bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .send(
            "PUT",
            &format!("/api/v1/social/block-lists/{list}/subscription"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .send(
            "POST",
            &format!("/api/v1/social/follows/{cy}"),
            Some(ann),
            None,
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = c
        .send(
            "DELETE",
            &format!("/api/v1/social/block-lists/{list}/subscription"),
            Some(ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .send(
            "DELETE",
            &format!("/api/v1/social/block-lists/{list}/members/{cy}"),
            Some(bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, e) = c
        .send(
            "POST",
            "/api/v1/social/block-lists",
            Some(bob),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
}

#[tokio::test]
async fn rest_follows_spend_the_gateways_per_principal_budget() {
    use nova_kv::Quota;
    use nova_kv::edge::{EdgeGuard, EdgeLimits};

    let test = nova_testkit::sqlite().await;
    let db = test.db().clone();
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        CursorCodec::new(b"test key, long enough for hmac!!"),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = SocialService::new(
        graph,
        users,
        Arc::new(SqlSocialStore::new(db.clone())),
    );
    let app = nova_social::http::router(Arc::new(social), Arc::new(TestAuth));
    let ann = account(&db, "ann").await;
    let mut others = Vec::new();
    for name in ["bob", "cy", "dee", "eve"] {
        others.push(account(&db, name).await);
    }
    // A deployment allowing 3 operations per user per minute (GATEWAY_RATE_PER_PRINCIPAL).
    let guard = EdgeGuard::new(
        nova_kv::Kv::in_process().rate_limiter,
        EdgeLimits {
            per_principal: Quota::per_minute(3),
            ..EdgeLimits::default()
        },
    );
    let mut statuses = Vec::new();
    for other in others {
        let mut req = Request::post(format!("/api/v1/social/follows/{other}"))
            .header("authorization", format!("Bearer t-{ann}"))
            .body(Body::empty())
            .unwrap();
        req.extensions_mut().insert(guard.clone());
        statuses.push(app.clone().oneshot(req).await.unwrap().status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
