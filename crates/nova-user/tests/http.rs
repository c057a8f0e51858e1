#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The users REST routes over the real service on SQLite.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, PostId, Principal, SessionId, UserId};
use nova_user::UserService;
use nova_user::store::SqlUserStore;
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

async fn account(db: &nova_db::Db, username: &str) -> UserId {
    nova_identity::fixtures::account(db, username)
        .await
        .unwrap()
        .user_id
}

async fn call(
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

#[tokio::test]
async fn profiles_settings_username_and_lifecycle_over_rest() {
    let test = nova_testkit::sqlite().await;
    let db = test.db();
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let app = nova_user::http::router(users, Arc::new(TestAuth));
    let ann = account(db, "ann").await;

    let (status, p) = call(&app, "GET", &format!("/api/v1/users/{ann}"), None, None).await;
    assert_eq!(
        (status, p["username"].as_str()),
        (StatusCode::OK, Some("ann"))
    );
    let (status, e) = call(&app, "GET", "/api/v1/users/not-a-uuid", None, None).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    let (status, _) = call(
        &app,
        "GET",
        &format!("/api/v1/users/{}", UserId::new()),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Profile: needs a caller; bad input names the field and changes nothing.
    let patch = json!({"display_name": "Ann", "bio": "hi", "links": ["https://ann.example"]});
    let (status, _) = call(&app, "PATCH", "/api/v1/users/me", None, Some(patch.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, p) = call(&app, "PATCH", "/api/v1/users/me", Some(ann), Some(patch)).await;
    assert_eq!(
        (status, p["display_name"].as_str()),
        (StatusCode::OK, Some("Ann"))
    );
    let (status, e) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        Some(json!({"bio": 5})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bio"))
    );
    let long = "é".repeat(51);
    let (status, e) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        Some(json!({"display_name": long})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("display_name"))
    );
    let avatar = nova_core::MediaId::new();
    let (_, p) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        Some(json!({"avatar": avatar})),
    )
    .await;
    assert_eq!(p["avatar"], json!(avatar));
    let (_, p) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        Some(json!({"avatar": null})),
    )
    .await;
    assert_eq!(
        (p["avatar"].clone(), p["display_name"].as_str()),
        (Value::Null, Some("Ann"))
    );

    // Settings.
    let (status, mut s) = call(&app, "GET", "/api/v1/users/me/settings", Some(ann), None).await;
    assert_eq!(
        (status, s["private_account"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    s["private_account"] = json!(true);
    let (status, s2) = call(&app, "PUT", "/api/v1/users/me/settings", Some(ann), Some(s)).await;
    assert_eq!(
        (status, s2["private_account"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, e) = call(
        &app,
        "PUT",
        "/api/v1/users/me/settings",
        Some(ann),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["field"].as_str(), Some("private_account"));

    // Username.
    let (status, p) = call(
        &app,
        "POST",
        "/api/v1/users/me/username",
        Some(ann),
        Some(json!({"username": "annie"})),
    )
    .await;
    assert_eq!(
        (status, p["username"].as_str()),
        (StatusCode::OK, Some("annie"))
    );
    let (status, p) = call(&app, "GET", "/api/v1/users/by-username/ANNIE", None, None).await;
    assert_eq!((status, p["user_id"].clone()), (StatusCode::OK, json!(ann)));

    // Deactivate hides the profile; reactivate brings it back; delete ends it.
    let (status, _) = call(&app, "POST", "/api/v1/users/me/deactivate", Some(ann), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, "GET", &format!("/api/v1/users/{ann}"), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "POST", "/api/v1/users/me/reactivate", Some(ann), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, "GET", &format!("/api/v1/users/{ann}"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &app,
        "DELETE",
        "/api/v1/users/me?reason=leaving",
        Some(ann),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, "GET", &format!("/api/v1/users/{ann}"), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A block between `a` and `b` (either way), as social would report it.
struct Blocked(UserId, UserId);

#[async_trait]
impl nova_user::http::Interactions for Blocked {
    async fn can_interact(&self, viewer: UserId, target: UserId) -> nova_core::Result<bool> {
        Ok(!((viewer, target) == (self.0, self.1) || (viewer, target) == (self.1, self.0)))
    }
}

#[tokio::test]
async fn a_profile_across_a_block_answers_like_a_missing_one() {
    let test = nova_testkit::sqlite().await;
    let db = test.db();
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let (ann, bob, cy) = (
        account(db, "ann").await,
        account(db, "bob").await,
        account(db, "cy").await,
    );
    let app =
        nova_user::http::router_with_blocks(users, Arc::new(TestAuth), Arc::new(Blocked(ann, bob)));
    let missing = call(
        &app,
        "GET",
        &format!("/api/v1/users/{}", UserId::new()),
        Some(bob),
        None,
    )
    .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    for (viewer, target, name) in [(bob, ann, "ann"), (ann, bob, "bob")] {
        let by_id = call(
            &app,
            "GET",
            &format!("/api/v1/users/{target}"),
            Some(viewer),
            None,
        )
        .await;
        assert_eq!(by_id, missing, "by id");
        let path = format!("/api/v1/users/by-username/{name}");
        let by_name = call(&app, "GET", &path, Some(viewer), None).await;
        assert_eq!(by_name.0, StatusCode::NOT_FOUND, "by username");
    }
    // Others, and the signed-out, still see both; everyone sees themselves.
    for (viewer, target) in [(Some(cy), ann), (None, bob), (Some(ann), ann)] {
        let (status, _) = call(
            &app,
            "GET",
            &format!("/api/v1/users/{target}"),
            viewer,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
}

/// The posts that exist, each with its author, as content would report them.
struct Posts(Vec<(PostId, UserId)>);

#[async_trait]
impl nova_user::http::OwnPosts for Posts {
    async fn is_own_post(&self, author: &Principal, post: PostId) -> nova_core::Result<bool> {
        Ok(self.0.contains(&(post, author.user_id)))
    }
}

#[tokio::test]
async fn only_ones_own_post_can_be_pinned() {
    let test = nova_testkit::sqlite().await;
    let db = test.db();
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let (ann, bob) = (account(db, "ann").await, account(db, "bob").await);
    let (anns, bobs) = (PostId::new(), PostId::new());
    let app = nova_user::http::router_with_ports(
        users,
        Arc::new(TestAuth),
        None,
        Some(Arc::new(Posts(vec![(anns, ann), (bobs, bob)]))),
    );
    let pin = |post: Value| Some(json!({ "pinned_post": post }));
    // Someone else's post and a missing one are refused alike, naming the field.
    let others = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        pin(json!(bobs)),
    )
    .await;
    let missing = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        pin(json!(PostId::new())),
    )
    .await;
    assert_eq!(others.0, StatusCode::BAD_REQUEST);
    assert_eq!(others.1["error"]["field"], "pinned_post");
    assert_eq!(
        others.1["error"]["message"], missing.1["error"]["message"],
        "another's post answers like a missing one"
    );
    let (_, profile) = call(&app, "GET", &format!("/api/v1/users/{ann}"), None, None).await;
    assert_eq!(profile["pinned_post"], Value::Null, "nothing changed");
    // One's own post pins, and null clears it.
    let (status, profile) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        pin(json!(anns)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["pinned_post"], json!(anns));
    let (status, profile) = call(
        &app,
        "PATCH",
        "/api/v1/users/me",
        Some(ann),
        pin(Value::Null),
    )
    .await;
    assert_eq!(
        (status, &profile["pinned_post"]),
        (StatusCode::OK, &Value::Null)
    );
}
