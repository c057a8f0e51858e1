//! OpenID Connect login end to end against a local provider started in the test: the
//! real HTTP code path (authorization redirect, code exchange with PKCE, JWKS fetch,
//! ID-token verification), no network beyond loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;

use axum::http::{StatusCode, header};
use common::{PASSWORD, harness_with};
use nova_core::ErrorKind;
use nova_db::Db;
use nova_identity::fixtures::oidc::OidcTestProvider;
use nova_identity::model::{
    LoginOutcome, LoginRequest, RegisterRequest, RequestContext, TokenPair,
};
use nova_identity::{IdentityApi, IdentityConfig, OAuthProviders};

const REDIRECT: &str = "http://127.0.0.1/callback";

async fn start_provider() -> (OAuthProviders, OidcTestProvider) {
    let provider = OidcTestProvider::start().await.unwrap();
    let providers =
        OAuthProviders::default().with("local", provider.provider(vec![REDIRECT.into()]));
    (providers, provider)
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

/// The tokens of a login that needed no second factor.
fn tokens(outcome: LoginOutcome) -> TokenPair {
    match outcome {
        LoginOutcome::Authenticated(pair) => pair,
        other => panic!("expected tokens, got {other:?}"),
    }
}

/// Registers `name` with a password (email `name@example.com`, not verified).
async fn register(api: &dyn IdentityApi, name: &str) {
    api.register(
        RegisterRequest {
            email: format!("{name}@example.com"),
            username: name.into(),
            password: PASSWORD.into(),
        },
        &ctx(),
    )
    .await
    .unwrap();
}

async fn password_login(api: &dyn IdentityApi, name: &str) -> LoginOutcome {
    api.login(LoginRequest::new(name, PASSWORD), &ctx())
        .await
        .unwrap()
}

mod suite {
    use super::*;

    pub async fn creates_then_reuses_an_account_and_links_by_verified_email(db: Db) {
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
        let api = h.service.as_ref();
        {
            let mut p = provider.next_identity();
            p.subject = "sub-1".into();
            p.email = "Newcomer@Example.com".into();
            p.email_verified = true;
        }
        let (code, state) = browser_login(api).await;
        let first = tokens(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap(),
        );
        let account = api
            .account(&nova_core::Principal::user(first.user_id, first.session_id))
            .await
            .unwrap();
        assert!(account.email_verified);
        assert_eq!(account.username, "Newcomer");
        let (code, state) = browser_login(api).await;
        let again = tokens(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap(),
        );
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

        // A password account whose address both its owner and the provider verified gets
        // linked, not duplicated.
        register(api, "owner").await;
        let token = h
            .mailer
            .last_token("owner@example.com", "verify_email")
            .unwrap();
        api.verify_email(&token).await.unwrap();
        let LoginOutcome::Authenticated(owner) = api
            .login(
                LoginRequest {
                    identifier: "owner".into(),
                    password: PASSWORD.into(),
                    device_token: None,
                    code: None,
                },
                &ctx(),
            )
            .await
            .unwrap()
        else {
            panic!("no 2FA here")
        };
        {
            let mut p = provider.next_identity();
            p.subject = "sub-2".into();
            p.email = "OWNER@example.com".into();
        }
        let (code, state) = browser_login(api).await;
        assert_eq!(
            tokens(
                api.oauth_callback("local", &code, &state, &ctx())
                    .await
                    .unwrap()
            )
            .user_id,
            owner.user_id
        );
    }

    /// Pre-account takeover: someone registers the victim's address first (never
    /// verifying it); the victim's later provider login must not land in that account.
    pub async fn provider_login_never_links_to_an_unverified_account(db: Db) {
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
        let api = h.service.as_ref();
        register(api, "squatter").await;
        {
            let mut p = provider.next_identity();
            p.subject = "victim-sub".into();
            p.email = "SQUATTER@example.com".into();
            p.email_verified = true;
        }
        let (code, state) = browser_login(api).await;
        let err = api
            .oauth_callback("local", &code, &state, &ctx())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
        assert!(err.message().starts_with("email: "), "{err}");
        for hint in ["not verified", "password", "settings"] {
            assert!(err.message().contains(hint), "{err}");
        }
        let links: i64 = match &h.db {
            Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM oauth_identities")
                .fetch_one(p)
                .await
                .unwrap(),
            Db::Sqlite(s) => sqlx::query_scalar("SELECT COUNT(*) FROM oauth_identities")
                .fetch_one(&s.reader)
                .await
                .unwrap(),
        };
        assert_eq!(links, 0, "no link was created");
        // The same over REST: a 409 naming the field, never tokens.
        let router = nova_identity::http::router(h.service.clone());
        let (code, state) = browser_login(api).await;
        let response = tower::ServiceExt::oneshot(
            router,
            axum::http::Request::get(format!(
                "/api/v1/auth/oauth/local/callback?code={code}&state={state}"
            ))
            .body(axum::body::Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("not verified"), "{body}");
        assert!(!body.contains("access_token"), "{body}");
        // The owner logs in with the password and links the provider from settings;
        // from then on the provider logs into that account.
        let owner = tokens(password_login(api, "squatter").await);
        let me = nova_core::Principal::user(owner.user_id, owner.session_id);
        let (code, state) = browser_login(api).await;
        api.oauth_link(&me, "local", &code, &state).await.unwrap();
        let (code, state) = browser_login(api).await;
        let linked = tokens(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap(),
        );
        assert_eq!(linked.user_id, owner.user_id);
        // A provider identity linked to one account cannot be linked to another.
        register(api, "other").await;
        let other = tokens(password_login(api, "other").await);
        let (code, state) = browser_login(api).await;
        let err = api
            .oauth_link(
                &nova_core::Principal::user(other.user_id, other.session_id),
                "local",
                &code,
                &state,
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    }

    /// Once the owner verifies the address, a provider login links by email.
    pub async fn provider_login_links_once_the_owner_verified_the_email(db: Db) {
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
        let api = h.service.as_ref();
        register(api, "late").await;
        {
            let mut p = provider.next_identity();
            p.subject = "late-sub".into();
            p.email = "late@example.com".into();
            p.email_verified = true;
        }
        let (code, state) = browser_login(api).await;
        assert!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .is_err()
        );
        let token = h
            .mailer
            .last_token("late@example.com", "verify_email")
            .unwrap();
        api.verify_email(&token).await.unwrap();
        let owner = tokens(password_login(api, "late").await);
        let (code, state) = browser_login(api).await;
        let linked = tokens(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap(),
        );
        assert_eq!(linked.user_id, owner.user_id);
    }

    /// A provider login to an account with TOTP on ends in the password login's
    /// second-factor challenge, never in tokens.
    pub async fn provider_login_asks_for_the_second_factor(db: Db) {
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
        let api = h.service.as_ref();
        register(api, "guarded").await;
        let token = h
            .mailer
            .last_token("guarded@example.com", "verify_email")
            .unwrap();
        api.verify_email(&token).await.unwrap();
        let t = tokens(password_login(api, "guarded").await);
        let me = nova_core::Principal::user(t.user_id, t.session_id);
        let enrollment = api.enroll_totp(&me).await.unwrap();
        let totp = nova_identity::Totp::new(
            &nova_identity::TotpSecret::from_base32(&enrollment.secret).unwrap(),
            "guarded",
            h.clock.shared(),
        )
        .unwrap();
        let now = || nova_core::Clock::now(&h.clock).timestamp() as u64;
        api.confirm_totp(&me, &totp.code_at(now())).await.unwrap();
        h.clock.advance(chrono::Duration::seconds(60));
        {
            let mut p = provider.next_identity();
            p.subject = "guarded-sub".into();
            p.email = "guarded@example.com".into();
            p.email_verified = true;
        }
        for round in 0..2 {
            // First the linking login, then one through the existing link.
            let (code, state) = browser_login(api).await;
            let LoginOutcome::TwoFactorRequired { challenge, .. } = api
                .oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap()
            else {
                panic!("round {round}: a provider login skipped the second factor");
            };
            assert!(
                api.login_two_factor(&challenge, "000000", &ctx())
                    .await
                    .is_err()
            );
            let pair = api
                .login_two_factor(&challenge, &totp.code_at(now()), &ctx())
                .await
                .unwrap();
            assert_eq!(pair.user_id, t.user_id);
            h.clock.advance(chrono::Duration::seconds(30));
        }
    }

    pub async fn unverified_email_never_takes_over_an_account(db: Db) {
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
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
            let mut p = provider.next_identity();
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
        let (providers, provider) = start_provider().await;
        let h = harness_with(db, IdentityConfig::default(), providers);
        let api = h.service.as_ref();
        {
            let mut p = provider.next_identity();
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
        provider.next_identity().wrong_nonce = true;
        let (code, state) = browser_login(api).await;
        assert_eq!(
            api.oauth_callback("local", &code, &state, &ctx())
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        provider.next_identity().wrong_nonce = false;
        // An ID token minted for another client.
        provider.next_identity().wrong_audience = true;
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
    provider_login_never_links_to_an_unverified_account,
    provider_login_links_once_the_owner_verified_the_email,
    provider_login_asks_for_the_second_factor,
    unverified_email_never_takes_over_an_account,
    wrong_state_nonce_or_audience_fail,
);
