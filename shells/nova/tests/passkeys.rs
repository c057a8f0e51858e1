//! Passkeys (issue 26) against the real `nova` binary over HTTP, with
//! webauthn-authenticator-rs's software authenticators as the browser and authenticator:
//! register, sign in with a username and without one, a replayed assertion, a wrong
//! origin and a wrong RP id, a cloned authenticator; the same ceremonies through GraphQL;
//! and production refusing to start without the relying party. (The last-sign-in-method rule and the budgets are covered
//! in-process in `crates/nova-identity/tests/passkeys.rs`, where a passwordless account
//! can be made.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use nova_testkit::process::{
    Running, assert_refused_at_start, free_port, http, service_command, wait_for_http,
};
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

const NOVA: &str = env!("CARGO_BIN_EXE_nova");
const ORIGIN: &str = "http://localhost:8000";
const PASSWORD: &str = "violet-harbour-tram-42";

fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let headers = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, text) = http(port, method, path, &headers, &body)
        .unwrap_or_else(|| panic!("no answer to {method} {path}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn password_user(port: u16, name: &str) -> String {
    let body =
        json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD});
    let (status, json) = call(port, "POST", "/api/v1/auth/register", None, &body);
    assert_eq!(status, 201, "{json}");
    let body = json!({"identifier": name, "password": PASSWORD});
    let (status, json) = call(port, "POST", "/api/v1/auth/login", None, &body);
    assert_eq!(status, 200, "{json}");
    json["access_token"].as_str().unwrap().to_owned()
}

/// Registers a passkey made by `device`; the registration options sent.
fn register(port: u16, token: &str, device: &mut impl AuthenticatorBackend) -> Value {
    let (status, start) = call(
        port,
        "POST",
        "/api/v1/auth/passkeys/register/start",
        Some(token),
        &Value::Null,
    );
    assert_eq!(status, 200, "{start}");
    let options: CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    let credential = device
        .perform_register(Url::parse(ORIGIN).unwrap(), options.public_key, 60_000)
        .unwrap();
    let body = json!({"ceremony": start["ceremony"], "credential": credential, "name": "Key"});
    let (status, passkey) = call(
        port,
        "POST",
        "/api/v1/auth/passkeys/register/finish",
        Some(token),
        &body,
    );
    assert_eq!(status, 201, "{passkey}");
    start["options"].clone()
}

fn login_start(port: u16, body: &Value) -> (Value, RequestChallengeResponse) {
    let (status, start) = call(
        port,
        "POST",
        "/api/v1/auth/passkeys/login/start",
        None,
        body,
    );
    assert_eq!(status, 200, "{start}");
    (
        start["ceremony"].clone(),
        serde_json::from_value(start["options"].clone()).unwrap(),
    )
}

fn assertion(
    device: &mut impl AuthenticatorBackend,
    options: RequestChallengeResponse,
    origin: &str,
) -> Value {
    let credential = device
        .perform_auth(Url::parse(origin).unwrap(), options.public_key, 60_000)
        .unwrap();
    serde_json::to_value(&credential).unwrap()
}

fn finish(port: u16, ceremony: &Value, credential: &Value) -> (u16, Value) {
    let body = json!({"ceremony": ceremony, "credential": credential});
    call(
        port,
        "POST",
        "/api/v1/auth/passkeys/login/finish",
        None,
        &body,
    )
}

#[test]
fn passkeys_against_the_real_binary() {
    // `nova` serves everything on its HTTP port (no gRPC port of its own).
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _nova = Running(
        service_command(NOVA, data.path(), port, free_port(), &[])
            .spawn()
            .unwrap(),
    );
    wait_for_http(port, "/api/v1/health", "nova");
    // Logins (password or passkey) share the edge's 10 per minute per address: this test
    // makes nine.
    let token = password_user(port, "ada");
    let mut device = SoftPasskey::new(true);
    let creation = register(port, &token, &mut device);

    // With a username.
    let (ceremony, options) = login_start(port, &json!({"username": "ada"}));
    let credential = assertion(&mut device, options, ORIGIN);
    let (status, pair) = finish(port, &ceremony, &credential);
    assert_eq!(status, 200, "{pair}");
    let access = pair["access_token"].as_str().unwrap();
    let (status, me) = call(port, "GET", "/api/v1/auth/me", Some(access), &Value::Null);
    assert_eq!((status, me["username"].as_str()), (200, Some("ada")));
    // Replayed.
    assert_eq!(finish(port, &ceremony, &credential).0, 401);

    // Without a username: the soft authenticator keeps no resident keys, so the test
    // plays that part (its credential for the RP, the user handle from registration).
    let (ceremony, mut options) = login_start(port, &json!({}));
    assert!(options.public_key.allow_credentials.is_empty());
    let (_, list) = call(
        port,
        "GET",
        "/api/v1/auth/passkeys",
        Some(&token),
        &Value::Null,
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    options.public_key.allow_credentials = serde_json::from_value(json!([
        {"type": "public-key", "id": credential["rawId"]}
    ]))
    .unwrap();
    let mut discovered = assertion(&mut device, options, ORIGIN);
    discovered["response"]["userHandle"] = creation["publicKey"]["user"]["id"].clone();
    let (status, pair) = finish(port, &ceremony, &discovered);
    assert_eq!(status, 200, "{pair}");

    // A wrong origin, then a wrong RP id.
    let (ceremony, options) = login_start(port, &json!({"username": "ada"}));
    let wrong = assertion(&mut device, options, "http://localhost:9000");
    assert_eq!(finish(port, &ceremony, &wrong).0, 401);
    let (ceremony, mut options) = login_start(port, &json!({"username": "ada"}));
    options.public_key.rp_id = "evil.example".into();
    let wrong = assertion(&mut device, options, ORIGIN);
    assert_eq!(finish(port, &ceremony, &wrong).0, 401);

    // A cloned authenticator: its counter runs behind the original's.
    let token = password_user(port, "bob");
    let (mut original, _) = SoftToken::new(true).unwrap();
    register(port, &token, &mut original);
    let mut clone = SoftToken::from_cbor(&original.to_cbor().unwrap()).unwrap();
    let (ceremony, options) = login_start(port, &json!({"username": "bob"}));
    let credential = assertion(&mut original, options, ORIGIN);
    assert_eq!(finish(port, &ceremony, &credential).0, 200);
    let (ceremony, options) = login_start(port, &json!({"username": "bob"}));
    let credential = assertion(&mut clone, options, ORIGIN);
    assert_eq!(finish(port, &ceremony, &credential).0, 401);
    let (_, list) = call(
        port,
        "GET",
        "/api/v1/auth/passkeys",
        Some(&token),
        &Value::Null,
    );
    assert!(list[0]["clone_warning_at"].is_string(), "{list}");
}

#[test]
fn production_refuses_to_start_without_the_relying_party() {
    let keys = format!("k1:{}", "A".repeat(43) + "=");
    let cursor = "q8Yh3v0Jx2mB7cN1pL4sT6wZ9rE5uK0aG3dF8hJ2";
    let base = [
        ("NOVA_ENV", "production"),
        ("NOVA_CURSOR_SECRET", cursor),
        ("IDENTITY_ENCRYPTION_KEYS", keys.as_str()),
    ];
    assert_refused_at_start(NOVA, "nova", &base, "WEBAUTHN_RP_ID");
    let mut with_rp = base.to_vec();
    with_rp.push(("WEBAUTHN_RP_ID", "example.com"));
    assert_refused_at_start(NOVA, "nova", &with_rp, "WEBAUTHN_ORIGINS");
    with_rp.push(("WEBAUTHN_ORIGINS", "https://evil.test"));
    assert_refused_at_start(NOVA, "nova", &with_rp, "WEBAUTHN_ORIGINS");
}

/// One GraphQL call that must succeed: its `data`.
fn graphql(port: u16, token: Option<&str>, query: &str, variables: Value) -> Value {
    let body = json!({"query": query, "variables": variables});
    let (status, answer) = call(port, "POST", "/graphql", token, &body);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer["data"].clone()
}

#[test]
fn passkeys_over_graphql() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _nova = Running(
        service_command(NOVA, data.path(), port, free_port(), &[])
            .spawn()
            .unwrap(),
    );
    wait_for_http(port, "/api/v1/health", "nova");
    let token = password_user(port, "gwen");
    let mut device = SoftPasskey::new(true);
    let origin = Url::parse(ORIGIN).unwrap();

    let start = graphql(
        port,
        Some(&token),
        "mutation { passkeyRegisterStart { ceremony options expiresAt } }",
        json!({}),
    )["passkeyRegisterStart"]
        .clone();
    let options: CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    let credential = device
        .perform_register(origin.clone(), options.public_key, 60_000)
        .unwrap();
    let passkey = graphql(
        port,
        Some(&token),
        "mutation($c: String!, $k: JSON!) { passkeyRegisterFinish(ceremony: $c, credential: $k, name: \"Phone\") { id name } }",
        json!({"c": start["ceremony"], "k": credential}),
    )["passkeyRegisterFinish"]
        .clone();
    assert_eq!(passkey["name"], "Phone");

    let start = graphql(
        port,
        None,
        "mutation { passkeyLoginStart(username: \"gwen\") { ceremony options } }",
        json!({}),
    )["passkeyLoginStart"]
        .clone();
    let options: RequestChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    let assertion = device
        .perform_auth(origin, options.public_key, 60_000)
        .unwrap();
    let tokens = graphql(
        port,
        None,
        "mutation($c: String!, $k: JSON!) { passkeyLoginFinish(ceremony: $c, credential: $k) { accessToken } }",
        json!({"c": start["ceremony"], "k": assertion}),
    )["passkeyLoginFinish"]
        .clone();
    let access = tokens["accessToken"].as_str().unwrap();
    let listed = graphql(
        port,
        Some(access),
        "{ viewer { passkeys { id name signCount lastUsedAt } } }",
        json!({}),
    );
    assert_eq!(listed["viewer"]["passkeys"][0]["signCount"], 1, "{listed}");
    let renamed = graphql(
        port,
        Some(access),
        "mutation($id: ID!) { renamePasskey(id: $id, name: \"Old phone\") { name } }",
        json!({"id": passkey["id"]}),
    );
    assert_eq!(renamed["renamePasskey"]["name"], "Old phone");
    let deleted = graphql(
        port,
        Some(&token),
        "mutation($id: ID!) { deletePasskey(id: $id, endSessions: true) }",
        json!({"id": passkey["id"]}),
    );
    assert_eq!(deleted["deletePasskey"], 1, "the passkey's session ended");
}
