//! Passkeys over the real REST surface, with webauthn-authenticator-rs's software
//! authenticators playing the browser and the authenticator: registration, sign-in with
//! a username and without one, replay, wrong origin and RP id, user verification, a
//! cloned authenticator (sign-count regression), budgets, management and the last
//! sign-in method. Both engines.
//!
//! The soft authenticators keep no resident (discoverable) credentials, so for a
//! usernameless sign-in the test does what a resident-key authenticator does on its own:
//! it picks its credential for the RP and returns the user handle it was given at
//! registration (`user.id` of the creation options; the user handle is not signed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::SubsecRound;
use common::{KEYS, PASSWORD, harness, harness_with};
use nova_core::{Clock, Principal};
use nova_db::Db;
use nova_identity::store::{IdentityStore, RefreshRecord, SessionRecord, SqlIdentityStore};
use nova_identity::{
    IdentityApi, IdentityConfig, LoginLimits, OAuthProviders, TokenIssuer, Totp, TotpSecret,
};
use nova_kv::Quota;
use serde_json::{Value, json};
use tower::ServiceExt;
use url::Url;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

/// The development relying party's origin (the default `WEBAUTHN_ORIGINS`).
const ORIGIN: &str = "http://localhost:8000";

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
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

fn router(service: &Arc<nova_identity::IdentityService>) -> axum::Router {
    nova_identity::http::router(service.clone() as Arc<dyn IdentityApi>)
}

/// Registers `name` with a password and logs in: the access token.
async fn password_user(app: &axum::Router, name: &str) -> String {
    let body =
        json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD});
    let (status, json) = call(app, "POST", "/api/v1/auth/register", Some(&body), None).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    let login = json!({"identifier": name, "password": PASSWORD});
    let (status, json) = call(app, "POST", "/api/v1/auth/login", Some(&login), None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["access_token"].as_str().unwrap().to_owned()
}

/// An account with no password and no provider (as an OpenID login leaves one once its
/// provider link is gone), signed in: its principal and access token.
async fn passwordless_user(h: &common::Harness, name: &str) -> (Principal, String) {
    let db = &h.db;
    let principal = nova_identity::fixtures::account(db, name).await.unwrap();
    let now = chrono::Utc::now().trunc_subsecs(6);
    let session = SessionRecord {
        id: principal.session_id,
        user_id: principal.user_id,
        user_agent: "test".into(),
        ip: String::new(),
        created_at: now,
        last_seen_at: now,
        revoked_at: None,
    };
    let refresh = RefreshRecord {
        token_hash: principal.session_id.as_uuid().as_bytes().to_vec(),
        session_id: session.id,
        issued_at: now,
        expires_at: now + chrono::Duration::days(1),
        rotated_at: None,
        replaced_by: None,
    };
    SqlIdentityStore::new(db.clone())
        .create_session(&session, &refresh, &[])
        .await
        .unwrap();
    let issuer = TokenIssuer::new(
        KEYS.clone(),
        IdentityConfig::default().tokens,
        h.clock.shared(),
    );
    let token = issuer.issue(&principal).unwrap().token;
    (principal, token)
}

fn origin(url: &str) -> Url {
    Url::parse(url).unwrap()
}

/// Registration as a browser does it: start, the authenticator makes a credential for
/// `origin`, finish. The finish answer, and the credential JSON sent.
async fn register_with(
    app: &axum::Router,
    token: &str,
    device: &mut impl AuthenticatorBackend,
    at: &str,
    name: &str,
) -> (StatusCode, Value, Value) {
    let (status, start) = call(
        app,
        "POST",
        "/api/v1/auth/passkeys/register/start",
        None,
        Some(token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let options: CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    let credential = device
        .perform_register(origin(at), options.public_key, 60_000)
        .unwrap();
    let mut credential = serde_json::to_value(&credential).unwrap();
    // What a browser reports beside the attestation.
    credential["response"]["transports"] = json!(["internal", "hybrid", "carrier-pigeon"]);
    let body = json!({"ceremony": start["ceremony"], "credential": credential, "name": name});
    let (status, json) = call(
        app,
        "POST",
        "/api/v1/auth/passkeys/register/finish",
        Some(&body),
        Some(token),
    )
    .await;
    (status, json, start)
}

async fn register(
    app: &axum::Router,
    token: &str,
    device: &mut impl AuthenticatorBackend,
    name: &str,
) -> Value {
    let (status, passkey, _) = register_with(app, token, device, ORIGIN, name).await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");
    passkey
}

/// A sign-in ceremony's start: the ceremony handle and the request options.
async fn login_start(
    app: &axum::Router,
    username: Option<&str>,
) -> (String, RequestChallengeResponse) {
    let body = match username {
        Some(u) => json!({"username": u}),
        None => json!({}),
    };
    let (status, start) = call(
        app,
        "POST",
        "/api/v1/auth/passkeys/login/start",
        Some(&body),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    (
        start["ceremony"].as_str().unwrap().to_owned(),
        serde_json::from_value(start["options"].clone()).unwrap(),
    )
}

/// The assertion `device` makes for `options` at `origin`, as JSON.
fn assert_with(
    device: &mut impl AuthenticatorBackend,
    options: RequestChallengeResponse,
    at: &str,
) -> Value {
    let credential = device
        .perform_auth(origin(at), options.public_key, 60_000)
        .unwrap();
    serde_json::to_value(&credential).unwrap()
}

async fn login_finish(
    app: &axum::Router,
    ceremony: &str,
    credential: &Value,
) -> (StatusCode, Value) {
    let body = json!({"ceremony": ceremony, "credential": credential});
    call(
        app,
        "POST",
        "/api/v1/auth/passkeys/login/finish",
        Some(&body),
        None,
    )
    .await
}

/// A full named sign-in.
async fn sign_in(
    app: &axum::Router,
    username: &str,
    device: &mut impl AuthenticatorBackend,
) -> (StatusCode, Value) {
    let (ceremony, options) = login_start(app, Some(username)).await;
    let credential = assert_with(device, options, ORIGIN);
    login_finish(app, &ceremony, &credential).await
}

async fn me(app: &axum::Router, token: &str) -> StatusCode {
    call(app, "GET", "/api/v1/auth/me", None, Some(token))
        .await
        .0
}

mod suite {
    use super::*;

    pub async fn register_then_sign_in_with_a_username_and_without_one(db: Db) {
        let h = harness(db);
        let app = router(&h.service);
        let token = password_user(&app, "ada").await;
        // TOTP on: a passkey sign-in still needs no second step (it is both factors).
        let principal = h.service.verify_access_token(&token).await.unwrap();
        let enrollment = h.service.enroll_totp(&principal).await.unwrap();
        let totp = Totp::new(
            &TotpSecret::from_base32(&enrollment.secret).unwrap(),
            "ada",
            h.clock.shared(),
        )
        .unwrap();
        let code = totp.code_at(h.clock.now().timestamp() as u64);
        h.service.confirm_totp(&principal, &code).await.unwrap();

        let mut device = SoftPasskey::new(true);
        let (status, passkey, start) =
            register_with(&app, &token, &mut device, ORIGIN, "  Laptop ").await;
        assert_eq!(status, StatusCode::CREATED, "{passkey}");
        assert_eq!(passkey["name"], "Laptop");
        assert_eq!(passkey["transports"], json!(["hybrid", "internal"]));
        assert!(passkey["last_used_at"].is_null());
        // The creation options ask for user verification and a discoverable credential.
        let selection = &start["options"]["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required", "{start}");
        assert_eq!(selection["residentKey"], "preferred", "{start}");
        assert_eq!(start["options"]["publicKey"]["rp"]["id"], "localhost");

        // With a username: the account's passkeys are offered.
        let (ceremony, options) = login_start(&app, Some("ADA")).await;
        assert_eq!(options.public_key.allow_credentials.len(), 1);
        let credential = assert_with(&mut device, options, ORIGIN);
        let (status, pair) = login_finish(&app, &ceremony, &credential).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        assert_eq!(pair["user_id"], passkey_owner(&h, &token).await);
        let access = pair["access_token"].as_str().unwrap();
        assert_eq!(me(&app, access).await, StatusCode::OK);
        // The refresh token works like a password login's.
        let refresh = json!({"refresh_token": pair["refresh_token"]});
        let (status, _) = call(&app, "POST", "/api/v1/auth/refresh", Some(&refresh), None).await;
        assert_eq!(status, StatusCode::OK);

        // The same assertion again: the ceremony was single use.
        let (status, replay) = login_finish(&app, &ceremony, &credential).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{replay}");
        // ... and under a fresh ceremony its challenge does not match.
        let (fresh, _) = login_start(&app, Some("ada")).await;
        let (status, _) = login_finish(&app, &fresh, &credential).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Without a username: any discoverable passkey of the RP may answer.
        let (ceremony, mut options) = login_start(&app, None).await;
        assert!(options.public_key.allow_credentials.is_empty());
        // The authenticator finds its own credential for the RP ...
        let registered: Value = credential_of(&passkey, &h, &token).await;
        options.public_key.allow_credentials =
            serde_json::from_value(json!([{"type": "public-key", "id": registered}])).unwrap();
        let mut credential = assert_with(&mut device, options, ORIGIN);
        // ... and returns the user handle it was given at registration.
        credential["response"]["userHandle"] = start["options"]["publicKey"]["user"]["id"].clone();
        let (status, pair) = login_finish(&app, &ceremony, &credential).await;
        assert_eq!(status, StatusCode::OK, "{pair}");

        // A user handle naming someone else is refused.
        let other = password_user(&app, "bob").await;
        let (ceremony, mut options) = login_start(&app, None).await;
        options.public_key.allow_credentials =
            serde_json::from_value(json!([{"type": "public-key", "id": registered}])).unwrap();
        let mut credential = assert_with(&mut device, options, ORIGIN);
        let bo = h.service.verify_access_token(&other).await.unwrap().user_id;
        credential["response"]["userHandle"] = json!(base64_url(bo.as_uuid().as_bytes()));
        let (status, _) = login_finish(&app, &ceremony, &credential).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Listed with its use; three sessions so far (password, two passkey sign-ins).
        let (status, list) = call(&app, "GET", "/api/v1/auth/passkeys", None, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(list[0]["last_used_at"].is_string(), "{list}");
        assert_eq!(list[0]["sign_count"], 2, "{list}");
        let (_, sessions) = call(&app, "GET", "/api/v1/auth/sessions", None, Some(&token)).await;
        assert_eq!(sessions.as_array().unwrap().len(), 3, "{sessions}");
    }

    pub async fn wrong_origin_wrong_rp_id_and_no_user_verification_are_refused(db: Db) {
        let h = harness(db);
        let app = router(&h.service);
        let token = password_user(&app, "cyd").await;
        let mut device = SoftPasskey::new(true);

        // Registration from an origin the RP does not accept.
        let (status, json, _) =
            register_with(&app, &token, &mut device, "http://localhost:9000", "x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["error"]["field"], "credential");
        register(&app, &token, &mut device, "Phone").await;

        // Sign-in from another origin (another port is another origin).
        let (ceremony, options) = login_start(&app, Some("cyd")).await;
        let credential = assert_with(&mut device, options, "http://localhost:9000");
        assert_eq!(
            login_finish(&app, &ceremony, &credential).await.0,
            StatusCode::UNAUTHORIZED
        );
        // An assertion scoped to another relying party id (from the accepted origin).
        let (ceremony, mut options) = login_start(&app, Some("cyd")).await;
        options.public_key.rp_id = "evil.example".into();
        let credential = assert_with(&mut device, options, ORIGIN);
        assert_eq!(
            login_finish(&app, &ceremony, &credential).await.0,
            StatusCode::UNAUTHORIZED
        );
        // User presence without user verification.
        let (ceremony, mut options) = login_start(&app, Some("cyd")).await;
        options.public_key.user_verification =
            serde_json::from_value(json!("discouraged")).unwrap();
        let credential = assert_with(&mut device, options, ORIGIN);
        assert_eq!(
            login_finish(&app, &ceremony, &credential).await.0,
            StatusCode::UNAUTHORIZED
        );
        // The genuine article still works.
        assert_eq!(sign_in(&app, "cyd", &mut device).await.0, StatusCode::OK);
        // Another account's name does not unlock this passkey.
        password_user(&app, "dee").await;
        let (ceremony, options) = login_start(&app, Some("cyd")).await;
        let credential = assert_with(&mut device, options, ORIGIN);
        let (other, _) = login_start(&app, Some("dee")).await;
        assert_eq!(
            login_finish(&app, &other, &credential).await.0,
            StatusCode::UNAUTHORIZED
        );
        // The ceremony it was made for was never used: it still finishes.
        assert_eq!(
            login_finish(&app, &ceremony, &credential).await.0,
            StatusCode::OK
        );
    }

    pub async fn a_cloned_authenticator_is_refused_and_recorded(db: Db) {
        let h = harness(db);
        let app = router(&h.service);
        let token = password_user(&app, "eve").await;
        let (mut original, _) = SoftToken::new(true).unwrap();
        register(&app, &token, &mut original, "Key").await;
        // A copy of the authenticator, its counter where the original's is now.
        let mut clone = SoftToken::from_cbor(&original.to_cbor().unwrap()).unwrap();
        assert_eq!(sign_in(&app, "eve", &mut original).await.0, StatusCode::OK);
        assert_eq!(sign_in(&app, "eve", &mut original).await.0, StatusCode::OK);
        // The clone signs with counter 1, behind the 2 already seen.
        let (status, json) = sign_in(&app, "eve", &mut clone).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
        let (_, list) = call(&app, "GET", "/api/v1/auth/passkeys", None, Some(&token)).await;
        assert!(list[0]["clone_warning_at"].is_string(), "{list}");
        assert_eq!(list[0]["sign_count"], 2);
        // The clone catches up with the counter but never ahead of what was seen: its
        // next one (2) is refused too; the original (3) goes on.
        assert_eq!(
            sign_in(&app, "eve", &mut clone).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(sign_in(&app, "eve", &mut original).await.0, StatusCode::OK);
    }

    pub async fn passkey_failures_spend_the_password_budgets(db: Db) {
        let config = IdentityConfig {
            limits: LoginLimits {
                failures_per_account: Quota::new(3, Duration::from_secs(3600)),
                failures_per_ip: Quota::new(8, Duration::from_secs(300)),
                ..LoginLimits::default()
            },
            ..IdentityConfig::default()
        };
        let h = harness_with(db, config, OAuthProviders::default());
        let app = router(&h.service);
        let token = password_user(&app, "fay").await;
        let mut device = SoftPasskey::new(true);
        register(&app, &token, &mut device, "Key").await;
        // Three assertions from a wrong origin spend fay's account budget ...
        for _ in 0..3 {
            let (ceremony, options) = login_start(&app, Some("fay")).await;
            let credential = assert_with(&mut device, options, "http://localhost:9000");
            assert_eq!(
                login_finish(&app, &ceremony, &credential).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        // ... which password logins share.
        let login = json!({"identifier": "fay", "password": PASSWORD});
        let (status, json) = call(&app, "POST", "/api/v1/auth/login", Some(&login), None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{json}");
        // The address budget (8) is shared too: 1 password login at registration, 3
        // failures, the refused login above, one more finish, then it is spent.
        let (ceremony, options) = login_start(&app, Some("fay")).await;
        let credential = assert_with(&mut device, options, ORIGIN);
        assert_eq!(
            login_finish(&app, &ceremony, &credential).await.0,
            StatusCode::OK
        );
        let mut last = StatusCode::OK;
        for _ in 0..3 {
            let (ceremony, options) = login_start(&app, Some("fay")).await;
            let credential = assert_with(&mut device, options, ORIGIN);
            last = login_finish(&app, &ceremony, &credential).await.0;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    }

    pub async fn management_and_the_last_sign_in_method(db: Db) {
        let h = harness(db);
        let app = router(&h.service);
        let (_, token) = passwordless_user(&h, "gil").await;
        let mut laptop = SoftPasskey::new(true);
        let first = register(&app, &token, &mut laptop, "Laptop").await;
        let first_id = first["id"].as_str().unwrap().to_owned();

        // Renamed.
        let uri = format!("/api/v1/auth/passkeys/{first_id}");
        let (status, renamed) = call(
            &app,
            "PATCH",
            &uri,
            Some(&json!({"name": "Work laptop"})),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["name"], "Work laptop");

        // The only way into an account without password or provider stays.
        let (status, json) = call(&app, "DELETE", &uri, None, Some(&token)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{json}");

        // With a second passkey the first may go, and the sessions it opened with it.
        let mut phone = SoftPasskey::new(true);
        let second = register(&app, &token, &mut phone, "Phone").await;
        let (status, pair) = sign_in(&app, "gil", &mut laptop).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        let opened = pair["access_token"].as_str().unwrap().to_owned();
        // An assertion made before the deletion, finished after it.
        let (pending, options) = login_start(&app, Some("gil")).await;
        let late = assert_with(&mut laptop, options, ORIGIN);
        let (status, json) = call(
            &app,
            "DELETE",
            &format!("{uri}?end_sessions=true"),
            None,
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(json["ended_sessions"], 1);
        assert_eq!(me(&app, &opened).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me(&app, &token).await, StatusCode::OK);
        // The deleted passkey signs in no more.
        assert_eq!(
            login_finish(&app, &pending, &late).await.0,
            StatusCode::UNAUTHORIZED
        );
        // And now the phone is the last one.
        let phone_uri = format!("/api/v1/auth/passkeys/{}", second["id"].as_str().unwrap());
        assert_eq!(
            call(&app, "DELETE", &phone_uri, None, Some(&token)).await.0,
            StatusCode::CONFLICT
        );
        // Someone else's passkey is not found, to rename or delete.
        let other = password_user(&app, "hal").await;
        assert_eq!(
            call(&app, "DELETE", &phone_uri, None, Some(&other)).await.0,
            StatusCode::NOT_FOUND
        );
        let rename = json!({"name": "mine"});
        assert_eq!(
            call(&app, "PATCH", &phone_uri, Some(&rename), Some(&other))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        // An account with a password may delete its only passkey.
        let mut key = SoftPasskey::new(true);
        let only = register(&app, &other, &mut key, "Key").await;
        let only_uri = format!("/api/v1/auth/passkeys/{}", only["id"].as_str().unwrap());
        let (status, json) = call(&app, "DELETE", &only_uri, None, Some(&other)).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(json["ended_sessions"], 0);
    }

    pub async fn bad_input_is_a_400_naming_the_field(db: Db) {
        let h = harness(db);
        let app = router(&h.service);
        let token = password_user(&app, "ivy").await;
        let (_, start) = call(
            &app,
            "POST",
            "/api/v1/auth/passkeys/register/start",
            None,
            Some(&token),
        )
        .await;
        let ceremony = start["ceremony"].clone();
        let long = "x".repeat(65);
        let cases = [
            (
                "/api/v1/auth/passkeys/register/finish",
                json!({"ceremony": ceremony}),
                "credential",
            ),
            (
                "/api/v1/auth/passkeys/register/finish",
                json!({"credential": {}}),
                "ceremony",
            ),
            (
                "/api/v1/auth/passkeys/register/finish",
                json!({"ceremony": ceremony, "credential": {"id": 5}}),
                "credential",
            ),
            (
                "/api/v1/auth/passkeys/register/finish",
                json!({"ceremony": ceremony, "credential": {}, "name": long}),
                "name",
            ),
            (
                "/api/v1/auth/passkeys/register/finish",
                json!({"ceremony": "", "credential": {}}),
                "ceremony",
            ),
            (
                "/api/v1/auth/passkeys/login/finish",
                json!({"credential": {}}),
                "ceremony",
            ),
            (
                "/api/v1/auth/passkeys/login/finish",
                json!({"ceremony": "c"}),
                "credential",
            ),
            (
                "/api/v1/auth/passkeys/login/finish",
                json!({"ceremony": "c", "credential": []}),
                "credential",
            ),
            (
                "/api/v1/auth/passkeys/login/start",
                json!({"username": 7}),
                "username",
            ),
        ];
        for (uri, body, field) in cases {
            let (status, json) = call(&app, "POST", uri, Some(&body), Some(&token)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {json}");
            assert_eq!(json["error"]["field"], field, "{uri} {body}: {json}");
        }
        // The ceremony was not spent by bad input: it still finishes.
        let mut device = SoftPasskey::new(true);
        let options: CreationChallengeResponse =
            serde_json::from_value(start["options"].clone()).unwrap();
        let credential = device
            .perform_register(origin(ORIGIN), options.public_key, 60_000)
            .unwrap();
        let body = json!({"ceremony": ceremony, "credential": credential});
        let (status, passkey) = call(
            &app,
            "POST",
            "/api/v1/auth/passkeys/register/finish",
            Some(&body),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{passkey}");
        assert_eq!(passkey["name"], "Passkey");
        let uri = format!("/api/v1/auth/passkeys/{}", passkey["id"].as_str().unwrap());
        for (method, uri, body, field) in [
            ("PATCH", uri.clone(), Some(json!({"name": " "})), "name"),
            ("PATCH", uri.clone(), Some(json!({})), "name"),
            (
                "PATCH",
                "/api/v1/auth/passkeys/nope".to_owned(),
                Some(json!({"name": "a"})),
                "id",
            ),
            (
                "DELETE",
                "/api/v1/auth/passkeys/nope".to_owned(),
                None,
                "id",
            ),
            (
                "DELETE",
                format!("{uri}?end_sessions=maybe"),
                None,
                "end_sessions",
            ),
        ] {
            let (status, json) = call(&app, method, &uri, body.as_ref(), Some(&token)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}: {json}");
            assert_eq!(json["error"]["field"], field, "{method} {uri}: {json}");
        }
        // Registration needs a signed-in caller.
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/auth/passkeys/register/start",
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Another session cannot finish this session's ceremony.
        let (_, start) = call(
            &app,
            "POST",
            "/api/v1/auth/passkeys/register/start",
            None,
            Some(&token),
        )
        .await;
        let login = json!({"identifier": "ivy", "password": PASSWORD});
        let (_, second) = call(&app, "POST", "/api/v1/auth/login", Some(&login), None).await;
        let options: CreationChallengeResponse =
            serde_json::from_value(start["options"].clone()).unwrap();
        let mut other_device = SoftPasskey::new(true);
        let credential = other_device
            .perform_register(origin(ORIGIN), options.public_key, 60_000)
            .unwrap();
        let body = json!({"ceremony": start["ceremony"], "credential": credential});
        let (status, json) = call(
            &app,
            "POST",
            "/api/v1/auth/passkeys/register/finish",
            Some(&body),
            second["access_token"].as_str(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["error"]["field"], "ceremony");
    }
}

/// The user id behind `token`, as JSON.
async fn passkey_owner(h: &common::Harness, token: &str) -> Value {
    let p = h.service.verify_access_token(token).await.unwrap();
    json!(p.user_id.to_string())
}

/// The credential id (base64url) of `token`'s only passkey `passkey`, as stored.
async fn credential_of(passkey: &Value, h: &common::Harness, token: &str) -> Value {
    let p = h.service.verify_access_token(token).await.unwrap();
    let store = SqlIdentityStore::new(h.db.clone());
    let records = nova_identity::store::PasskeyStore::passkeys(&store, p.user_id)
        .await
        .unwrap();
    let record = records
        .iter()
        .find(|r| r.id.to_string() == passkey["id"].as_str().unwrap())
        .unwrap();
    json!(base64_url(&record.credential_id))
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

nova_testkit::db_conformance_suite!(suite:
    register_then_sign_in_with_a_username_and_without_one,
    wrong_origin_wrong_rp_id_and_no_user_verification_are_refused,
    a_cloned_authenticator_is_refused_and_recorded,
    passkey_failures_spend_the_password_budgets,
    management_and_the_last_sign_in_method,
    bad_input_is_a_400_naming_the_field,
);
