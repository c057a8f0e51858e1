//! OpenID Connect login end to end against a local provider started in the test: the
//! real HTTP code path (authorization redirect, code exchange with PKCE, JWKS fetch,
//! ID-token verification), no network beyond loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PASSWORD, harness_with};
use nova_core::ErrorKind;
use nova_db::Db;
use nova_identity::model::{LoginOutcome, LoginRequest, RegisterRequest, RequestContext};
use nova_identity::{IdentityApi, IdentityConfig, OAuthProviders, OidcProvider, SigningKey};
use sha2::{Digest, Sha256};

static PROVIDER_KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate("p1").unwrap());
const CLIENT_ID: &str = "nova-client";
const CLIENT_SECRET: &str = "s3cret";
const REDIRECT: &str = "http://127.0.0.1/callback";

#[derive(Default)]
struct ProviderState {
    /// code → (nonce, code_challenge)
    codes: HashMap<String, (String, String)>,
    /// What the next ID token says.
    subject: String,
    email: String,
    email_verified: bool,
    /// Misbehaviour switches.
    wrong_nonce: bool,
    wrong_audience: bool,
}

type Shared = Arc<Mutex<ProviderState>>;

async fn authorize(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", uuid::Uuid::now_v7());
    state.lock().unwrap().codes.insert(
        code.clone(),
        (q["nonce"].clone(), q["code_challenge"].clone()),
    );
    let location = format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]);
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn token(State(state): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let s = state.lock().unwrap();
    let Some((nonce, challenge)) = s.codes.get(&f["code"]).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    // PKCE: the verifier must hash to the challenge sent at authorization time.
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(f["code_verifier"].as_bytes()));
    if computed != challenge || f["client_secret"] != CLIENT_SECRET || f["redirect_uri"] != REDIRECT
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": "http://local-provider",
        "aud": if s.wrong_audience { "someone-else" } else { CLIENT_ID },
        "sub": s.subject,
        "email": s.email,
        "email_verified": s.email_verified,
        "nonce": if s.wrong_nonce { "not-the-nonce".to_owned() } else { nonce },
        "iat": now,
        "exp": now + 300,
    });
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jwt_header.kid = Some("p1".into());
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(PROVIDER_KEY.to_pkcs8_pem().unwrap().as_bytes())
            .unwrap();
    let id_token = jsonwebtoken::encode(&jwt_header, &claims, &key).unwrap();
    Json(serde_json::json!({
        "id_token": id_token,
        "access_token": "provider-access-token",
        "refresh_token": "provider-refresh-token",
        "token_type": "Bearer",
        "expires_in": 3600
    }))
    .into_response()
}

async fn jwks() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "keys": [PROVIDER_KEY.verifying_key().to_jwk()] }))
}

async fn start_provider() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/jwks", get(jwks))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

fn providers(base: &str) -> OAuthProviders {
    OAuthProviders::default().with(
        "local",
        OidcProvider {
            issuer: "http://local-provider".into(),
            authorization_endpoint: format!("{base}/authorize"),
            token_endpoint: format!("{base}/token"),
            jwks_uri: format!("{base}/jwks"),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![REDIRECT.into()],
        },
    )
}

/// Plays the browser: follows the authorization URL to the provider and reads the
/// code and state it redirects back with.
async fn browser_login(api: &dyn IdentityApi) -> (String, String) {
    let start = api.oauth_start("local", REDIRECT).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(&start.authorization_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let url = url::Url::parse(&location).unwrap();
    let params: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(params["state"], start.state);
    (params["code"].clone(), params["state"].clone())
}

fn ctx() -> RequestContext {
    RequestContext::new("10.0.0.1".parse().ok(), "browser")
}

mod suite {
    use super::*;

    pub async fn creates_then_reuses_an_account_and_links_by_verified_email(db: Db) {
        let (base, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers(&base));
        let api = h.service.as_ref();
        {
            let mut p = provider.lock().unwrap();
            p.subject = "sub-1".into();
            p.email = "Newcomer@Example.com".into();
            p.email_verified = true;
        }
        let (code, state) = browser_login(api).await;
        let first = api
            .oauth_callback("local", &code, &state, &ctx())
            .await
            .unwrap();
        let account = api
            .account(&nova_core::Principal::user(first.user_id, first.session_id))
            .await
            .unwrap();
        assert!(account.email_verified);
        assert_eq!(account.username, "Newcomer");
        let (code, state) = browser_login(api).await;
        let again = api
            .oauth_callback("local", &code, &state, &ctx())
            .await
            .unwrap();
        assert_eq!(
            again.user_id, first.user_id,
            "same provider subject, same account"
        );
        // Provider tokens are stored encrypted, never in plain text.
        let q = "SELECT access_token_enc, refresh_token_enc FROM oauth_identities";
        let stored: Vec<(Option<String>, Option<String>)> = match &h.db {
            Db::Postgres(p) => sqlx::query_as(q).fetch_all(p).await.unwrap(),
            Db::Sqlite(s) => sqlx::query_as(q).fetch_all(&s.reader).await.unwrap(),
        };
        assert_eq!(stored.len(), 1);
        for (access, refresh) in stored {
            let (access, refresh) = (access.unwrap(), refresh.unwrap());
            assert!(
                !access.contains("provider-access-token")
                    && !refresh.contains("provider-refresh-token")
            );
        }

        // A password account whose address the provider verifies gets linked, not duplicated.
        api.register(
            RegisterRequest {
                email: "owner@example.com".into(),
                username: "owner".into(),
                password: PASSWORD.into(),
            },
            &ctx(),
        )
        .await
        .unwrap();
        let LoginOutcome::Authenticated(owner) = api
            .login(
                LoginRequest {
                    identifier: "owner".into(),
                    password: PASSWORD.into(),
                },
                &ctx(),
            )
            .await
            .unwrap()
        else {
            panic!("no 2FA here")
        };
        {
            let mut p = provider.lock().unwrap();
            p.subject = "sub-2".into();
            p.email = "OWNER@example.com".into();
        }
        let (code, state) = browser_login(api).await;
        assert_eq!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap()
                .user_id,
            owner.user_id
        );
    }

    pub async fn unverified_email_never_takes_over_an_account(db: Db) {
        let (base, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers(&base));
        let api = h.service.as_ref();
        api.register(
            RegisterRequest {
                email: "victim@example.com".into(),
                username: "victim".into(),
                password: PASSWORD.into(),
            },
            &ctx(),
        )
        .await
        .unwrap();
        {
            let mut p = provider.lock().unwrap();
            p.subject = "attacker".into();
            p.email = "victim@example.com".into();
            p.email_verified = false;
        }
        let (code, state) = browser_login(api).await;
        let err = api
            .oauth_callback("local", &code, &state, &ctx())
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("email"));
    }

    pub async fn wrong_state_nonce_or_audience_fail(db: Db) {
        let (base, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers(&base));
        let api = h.service.as_ref();
        {
            let mut p = provider.lock().unwrap();
            p.subject = "sub-3".into();
            p.email = "x@example.com".into();
            p.email_verified = true;
        }
        // A state we never issued.
        let (code, _) = browser_login(api).await;
        let err = api
            .oauth_callback("local", &code, "forged-state", &ctx())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        // A state is single use.
        let (code, state) = browser_login(api).await;
        api.oauth_callback("local", &code, &state, &ctx())
            .await
            .unwrap();
        assert!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .is_err()
        );
        // The provider returns an ID token for another login attempt (nonce mismatch).
        provider.lock().unwrap().wrong_nonce = true;
        let (code, state) = browser_login(api).await;
        assert_eq!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        provider.lock().unwrap().wrong_nonce = false;
        // An ID token minted for another client.
        provider.lock().unwrap().wrong_audience = true;
        let (code, state) = browser_login(api).await;
        assert_eq!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        // Unregistered redirect URIs and unknown providers are refused up front.
        assert_eq!(
            api.oauth_start("local", "http://evil.example/cb")
                .await
                .unwrap_err()
                .field(),
            Some("redirect_uri")
        );
        assert_eq!(
            api.oauth_start("myspace", REDIRECT)
                .await
                .unwrap_err()
                .field(),
            Some("provider")
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    creates_then_reuses_an_account_and_links_by_verified_email,
    unverified_email_never_takes_over_an_account,
    wrong_state_nonce_or_audience_fail,
);
