//! The REST routes (in-process, `tower::oneshot`) and the gRPC server + client (over
//! 127.0.0.1) in front of the real service on SQLite: each answers for the caller only,
//! someone else's notification is a 404 / NOT_FOUND like a missing one, bad input names
//! its field, and the live stream crosses the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use nova_auth::Authenticator;
use nova_content::ContentApi;
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_notification::grpc::{NotificationGrpcClient, NotificationGrpcServer};
use nova_notification::{
    Channels, Folder, MarkRead, NotificationApi, NotificationKind, Policy, Preferences, QuietHours,
};
use nova_social::SocialApi;
use serde_json::{Value, json};
use tonic::transport::Endpoint;
use tonic::transport::server::TcpIncoming;
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
        Ok(principal(id))
    }
}

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
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

#[tokio::test]
async fn rest_routes_answer_for_the_caller_only() {
    let backend = nova_testkit::sqlite().await;
    let w = common::world(backend.db().clone());
    let (ann, bob) = (w.user("ann").await, w.user("bob").await);
    for i in 0..3 {
        let post = w.post(&ann, &format!("post {i}")).await;
        w.content.like(&bob, post).await.unwrap();
    }
    w.deliver().await;
    let app = nova_notification::http::router(w.notifications.clone(), Arc::new(TestAuth));
    let (a, b) = (Some(ann.user_id), Some(bob.user_id));

    let (status, _) = send(&app, "GET", "/api/v1/notifications", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, page) = send(&app, "GET", "/api/v1/notifications?first=2", a, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["kind"], "like");
    assert_eq!(page["items"][0]["count"], 1);
    assert_eq!(
        page["items"][0]["actors"][0]["user_id"],
        bob.user_id.to_string()
    );
    assert_eq!(page["has_next_page"], true);
    let after = page["end_cursor"].as_str().unwrap();
    let (_, rest) = send(
        &app,
        "GET",
        &format!("/api/v1/notifications?after={after}"),
        a,
        None,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["has_next_page"], false);
    let newest = page["items"][0]["id"].as_str().unwrap().to_owned();

    let (_, count) = send(&app, "GET", "/api/v1/notifications/unread-count", a, None).await;
    assert_eq!(count, json!({"unread": 3}));
    // Bob may not touch Ann's notification: the same 404 as a missing one.
    let body = json!({ "id": newest });
    let (status, err) = send(
        &app,
        "POST",
        "/api/v1/notifications/read",
        b,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let missing = json!({ "id": uuid::Uuid::now_v7().to_string() });
    let (status2, err2) = send(&app, "POST", "/api/v1/notifications/read", a, Some(missing)).await;
    assert_eq!((status2, &err2), (StatusCode::NOT_FOUND, &err));
    let (status, marked) = send(&app, "POST", "/api/v1/notifications/read", a, Some(body)).await;
    assert_eq!((status, marked), (StatusCode::OK, json!({"marked": 1})));
    let (_, marked) = send(
        &app,
        "POST",
        "/api/v1/notifications/read",
        a,
        Some(json!({"all": true})),
    )
    .await;
    assert_eq!(marked, json!({"marked": 2}));
    let (_, count) = send(&app, "GET", "/api/v1/notifications/unread-count", a, None).await;
    assert_eq!(count, json!({"unread": 0}));

    // Bad input names its field.
    for (uri, body, field) in [
        ("/api/v1/notifications/read", json!({"id": "nope"}), "id"),
        (
            "/api/v1/notifications/read",
            json!({"up_to": "nope"}),
            "up_to",
        ),
        ("/api/v1/notifications/read", json!({}), "id"),
        (
            "/api/v1/notifications/read",
            json!({"all": true, "folder": "spam"}),
            "folder",
        ),
        (
            "/api/v1/notifications/policy",
            json!({"filter_not_following": "yes"}),
            "filter_not_following",
        ),
    ] {
        let method = if uri.ends_with("policy") {
            "PUT"
        } else {
            "POST"
        };
        let (status, err) = send(&app, method, uri, a, Some(body)).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{uri}"
        );
    }
    for (query, field) in [("first=many", "first"), ("folder=spam", "folder")] {
        let (status, err) = send(
            &app,
            "GET",
            &format!("/api/v1/notifications?{query}"),
            a,
            None,
        )
        .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field))
        );
    }
    let (status, err) = send(&app, "GET", "/api/v1/notifications?after=forged", a, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    let on = json!({"filter_not_following": true});
    let (status, policy) = send(
        &app,
        "PUT",
        "/api/v1/notifications/policy",
        a,
        Some(on.clone()),
    )
    .await;
    assert_eq!((status, policy), (StatusCode::OK, on.clone()));
    let (_, policy) = send(&app, "GET", "/api/v1/notifications/policy", a, None).await;
    assert_eq!(policy, on);
    let (_, policy) = send(&app, "GET", "/api/v1/notifications/policy", b, None).await;
    assert_eq!(policy, json!({"filter_not_following": false}));

    // Channel preferences: round trip, each user their own, a bad field named.
    let prefs = json!({
        "kinds": {"like": {"in_app": false, "push": true, "email": true}},
        "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"}
    });
    let uri = "/api/v1/notifications/preferences";
    let (status, got) = send(&app, "PUT", uri, a, Some(prefs.clone())).await;
    assert_eq!((status, &got), (StatusCode::OK, &prefs));
    assert_eq!(send(&app, "GET", uri, a, None).await.1, prefs);
    assert_eq!(
        send(&app, "GET", uri, b, None).await.1,
        json!({"kinds": {}, "quiet_hours": null})
    );
    for (body, field) in [
        (
            json!({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Nowhere/Land"}}),
            Some("quiet_hours.time_zone"),
        ),
        (
            json!({"kinds": {"poke": {"in_app": true, "push": true, "email": true}}}),
            None,
        ),
    ] {
        let (status, err) = send(&app, "PUT", uri, a, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        if let Some(field) = field {
            assert_eq!(err["error"]["field"].as_str(), Some(field), "{err}");
        }
    }
    assert_eq!(send(&app, "GET", uri, a, None).await.1, prefs);
    assert_eq!(
        send(&app, "GET", uri, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn grpc_client_and_server_carry_the_api() {
    let backend = nova_testkit::sqlite().await;
    let w = common::world(backend.db().clone());
    let (ann, bob) = (w.user("ann").await, w.user("bob").await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let api: Arc<dyn NotificationApi> = w.notifications.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(NotificationGrpcServer::new(api, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = NotificationGrpcClient::from_channel(
        Endpoint::from_shared(endpoint).unwrap().connect_lazy(),
    );
    let (me, as_ann, as_bob) = (
        principal(ann.user_id),
        client.with_token(format!("t-{}", ann.user_id)),
        client.with_token(format!("t-{}", bob.user_id)),
    );
    // No token: refused before anything is sent; another's session: refused by the server.
    let err = client.unread_count(&me, Folder::Inbox).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let err = as_bob.unread_count(&me, Folder::Inbox).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

    let mut live = as_ann.subscribe(&me).await.unwrap();
    let post = w.post(&ann, "hello").await;
    w.content.like(&bob, post).await.unwrap();
    w.social.follow(&bob, ann.user_id).await.unwrap();
    w.deliver().await;

    let page = as_ann.list(&me, Folder::Inbox, 10, None).await.unwrap();
    let local = w
        .notifications
        .list(&me, Folder::Inbox, 10, None)
        .await
        .unwrap();
    assert_eq!(page, local);
    assert_eq!(page.items.len(), 2);
    assert_eq!(as_ann.unread_count(&me, Folder::Inbox).await.unwrap(), 2);
    let first = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.kind, first.recipient_id),
        (NotificationKind::Like, ann.user_id)
    );

    // Bob's principal with Bob's token cannot mark Ann's: NOT_FOUND, as missing.
    let bob_p = principal(bob.user_id);
    let err = as_bob
        .mark_read(&bob_p, Folder::Inbox, MarkRead::One(page.items[0].id))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let marked = as_ann
        .mark_read(&me, Folder::Inbox, MarkRead::UpTo(page.items[0].id))
        .await
        .unwrap();
    assert_eq!(marked, 2);
    assert_eq!(as_ann.unread_count(&me, Folder::Inbox).await.unwrap(), 0);
    let err = as_ann
        .list(&me, Folder::Inbox, 10, Some("forged"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));

    let on = Policy {
        filter_not_following: true,
    };
    assert_eq!(as_ann.set_policy(&me, on).await.unwrap(), on);
    assert_eq!(as_ann.policy(&me).await.unwrap(), on);

    let mut prefs = Preferences {
        quiet_hours: Some(QuietHours {
            start: "23:00".into(),
            end: "06:30".into(),
            time_zone: "America/New_York".into(),
        }),
        ..Preferences::default()
    };
    prefs.kinds.insert(
        NotificationKind::Reply,
        Channels {
            in_app: true,
            push: false,
            email: true,
        },
    );
    assert_eq!(
        as_ann.set_preferences(&me, prefs.clone()).await.unwrap(),
        prefs
    );
    assert_eq!(as_ann.preferences(&me).await.unwrap(), prefs);
    let bad = Preferences {
        quiet_hours: Some(QuietHours {
            start: "23:00".into(),
            end: "23:00".into(),
            time_zone: "UTC".into(),
        }),
        ..Preferences::default()
    };
    let err = as_ann.set_preferences(&me, bad).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
        "{err:?}"
    );
    assert_eq!(as_ann.preferences(&me).await.unwrap(), prefs);
}
