//! The REST surface: status codes, field-naming errors, nothing written on bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PASSWORD, harness};
use nova_db::Db;
use nova_identity::IdentityApi;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-forwarded-for", "10.0.0.7");
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body.unwrap_or("").to_owned())).unwrap())
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

async fn users(db: &Db) -> i64 {
    match db {
        Db::Postgres(p) => sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(p)
            .await
            .unwrap(),
        Db::Sqlite(s) => sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&s.reader)
            .await
            .unwrap(),
    }
}

mod suite {
    use super::*;

    pub async fn bad_input_is_a_400_naming_the_field_and_writes_nothing(db: Db) {
        let h = harness(db.clone());
        let app = nova_identity::http::router(h.service.clone() as Arc<dyn IdentityApi>);
        let long = "x".repeat(300);
        let cases = [
            ("{\"email\": ", "body"),
            ("[]", "body"),
            (
                r#"{"username": "zoe", "password": "correct horse battery staple"}"#,
                "email",
            ),
            (
                r#"{"email": "zoe@example.com", "password": "correct horse battery staple"}"#,
                "username",
            ),
            (
                r#"{"email": "zoe@example.com", "username": "zoe", "password": 5}"#,
                "password",
            ),
            (
                r#"{"email": "not-an-email", "username": "zoe", "password": "correct horse battery staple"}"#,
                "email",
            ),
            (
                &format!(
                    r#"{{"email": "{long}@example.com", "username": "zoe", "password": "correct horse battery staple"}}"#
                ),
                "email",
            ),
            (
                &format!(
                    r#"{{"email": "zoe@example.com", "username": "{long}", "password": "correct horse battery staple"}}"#
                ),
                "username",
            ),
            (
                &format!(
                    r#"{{"email": "zoe@example.com", "username": "zoe", "password": "{long}"}}"#
                ),
                "password",
            ),
        ];
        for (body, field) in cases {
            let (status, json) =
                call(&app, "POST", "/api/v1/auth/register", Some(body), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(json["error"]["field"], field, "{body}: {json}");
            assert_eq!(json["error"]["code"], "BAD_USER_INPUT");
        }
        // Without the JSON content type.
        let req = Request::post("/api/v1/auth/login")
            .body(Body::from("{}"))
            .unwrap();
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(users(&db).await, 0, "nothing was written");
    }

    pub async fn the_happy_path_over_http(db: Db) {
        let h = harness(db);
        let app = nova_identity::http::router(h.service.clone() as Arc<dyn IdentityApi>);
        let body = json!({"email": "yan@example.com", "username": "yan", "password": PASSWORD})
            .to_string();
        let (status, account) =
            call(&app, "POST", "/api/v1/auth/register", Some(&body), None).await;
        assert_eq!(status, StatusCode::CREATED, "{account}");
        assert_eq!(account["username"], "yan");
        let (status, again) = call(&app, "POST", "/api/v1/auth/register", Some(&body), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");

        let login = json!({"identifier": "yan", "password": PASSWORD}).to_string();
        let (status, outcome) = call(&app, "POST", "/api/v1/auth/login", Some(&login), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(outcome["status"], "authenticated");
        let access = outcome["access_token"].as_str().unwrap().to_owned();
        let refresh = outcome["refresh_token"].as_str().unwrap().to_owned();

        let (status, me) = call(&app, "GET", "/api/v1/auth/me", None, Some(&access)).await;
        assert_eq!(
            (status, me["email"].as_str()),
            (StatusCode::OK, Some("yan@example.com"))
        );
        assert_eq!(
            call(&app, "GET", "/api/v1/auth/me", None, None).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&app, "GET", "/api/v1/auth/me", None, Some("garbage"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );

        let (status, sessions) =
            call(&app, "GET", "/api/v1/auth/sessions", None, Some(&access)).await;
        assert_eq!(
            (status, sessions.as_array().map(Vec::len)),
            (StatusCode::OK, Some(1))
        );
        let (status, _) = call(
            &app,
            "DELETE",
            "/api/v1/auth/sessions/not-a-uuid",
            None,
            Some(&access),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, pair) = call(
            &app,
            "POST",
            "/api/v1/auth/refresh",
            Some(&json!({"refresh_token": refresh}).to_string()),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        let (status, jwks) = call(&app, "GET", "/.well-known/jwks.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(jwks["keys"][0]["alg"], "RS256");

        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/auth/logout",
            None,
            Some(pair["access_token"].as_str().unwrap()),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/v1/auth/me",
                None,
                Some(pair["access_token"].as_str().unwrap())
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
    }

    pub async fn unknown_user_and_wrong_password_look_the_same_over_http(db: Db) {
        let h = harness(db);
        let app = nova_identity::http::router(h.service.clone() as Arc<dyn IdentityApi>);
        let body = json!({"email": "wes@example.com", "username": "wes", "password": PASSWORD})
            .to_string();
        call(&app, "POST", "/api/v1/auth/register", Some(&body), None).await;
        let unknown = call(
            &app,
            "POST",
            "/api/v1/auth/login",
            Some(&json!({"identifier": "nobody", "password": PASSWORD}).to_string()),
            None,
        )
        .await;
        let wrong = call(
            &app,
            "POST",
            "/api/v1/auth/login",
            Some(&json!({"identifier": "wes", "password": "wrong wrong wrong"}).to_string()),
            None,
        )
        .await;
        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown, wrong);
    }
}

nova_testkit::db_conformance_suite!(suite:
    bad_input_is_a_400_naming_the_field_and_writes_nothing,
    the_happy_path_over_http,
    unknown_user_and_wrong_password_look_the_same_over_http,
);
