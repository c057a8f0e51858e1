#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `Authenticator`: JWKS-based verification as a separate service does it, and the axum
//! extractors every domain's REST routes use.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use nova_core::{ErrorKind, ManualClock, Principal, SessionId, UserId};
use nova_identity::auth::{Authenticated, Authenticator, JwksAuthenticator, MaybeAuthenticated};
use nova_identity::{KeySet, TokenConfig, TokenIssuer};
use tower::ServiceExt;

type Jwks = Arc<RwLock<serde_json::Value>>;

/// Serves whatever key set is in `jwks` on an ephemeral port; returns its URL.
async fn serve_jwks(jwks: Jwks) -> String {
    let app = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State(j): State<Jwks>| async move { axum::Json(j.read().unwrap().clone()) }),
        )
        .with_state(jwks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/.well-known/jwks.json")
}

#[tokio::test]
async fn jwks_verification_follows_key_rotation_and_refuses_forgeries() {
    let clock = ManualClock::new(chrono::Utc::now());
    let config = TokenConfig::new("nova", "nova");
    let k1 = Arc::new(KeySet::generate("k1").unwrap());
    let jwks: Jwks = Arc::new(RwLock::new(k1.jwks()));
    let url = serve_jwks(jwks.clone()).await;
    let auth = JwksAuthenticator::new(url, config.clone(), clock.shared())
        .with_min_refetch(Duration::ZERO);

    let ann = Principal::user(UserId::new(), SessionId::new());
    let issued = TokenIssuer::new(k1.clone(), config.clone(), clock.shared());
    let token = issued.issue(&ann).unwrap().token;
    assert_eq!(auth.authenticate(&token).await.unwrap(), ann);

    // Identity rotates to k2: a k2 token names an unknown kid, so the keys are re-read.
    let k2 = Arc::new(KeySet::generate("k2").unwrap());
    *jwks.write().unwrap() = k2.jwks();
    let rotated = TokenIssuer::new(k2.clone(), config.clone(), clock.shared());
    let token2 = rotated.issue(&ann).unwrap().token;
    assert_eq!(auth.authenticate(&token2).await.unwrap(), ann);

    // A token signed by someone else's key under a published kid.
    let forger = Arc::new(KeySet::generate("k2").unwrap());
    let forged = TokenIssuer::new(forger, config.clone(), clock.shared())
        .issue(&ann)
        .unwrap()
        .token;
    let err = auth.authenticate(&forged).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

    // Expiry follows the clock, cached or not.
    clock.advance(chrono::Duration::minutes(16));
    let err = auth.authenticate(&token2).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn without_identity_the_answer_is_unavailable_not_anonymous() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    drop(listener);
    let auth = JwksAuthenticator::new(url, TokenConfig::new("nova", "nova"), {
        nova_core::SystemClock::shared()
    });
    let err = auth.authenticate("a.b.c").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(auth.refresh().await.is_err());
}

async fn whoami(Authenticated(p): Authenticated) -> String {
    p.user_id.to_string()
}

async fn maybe(MaybeAuthenticated(p): MaybeAuthenticated) -> String {
    p.map_or_else(|| "anonymous".to_owned(), |p| p.user_id.to_string())
}

#[tokio::test]
async fn extractors_read_the_bearer_header() {
    let clock = ManualClock::new(chrono::Utc::now());
    let config = TokenConfig::new("nova", "nova");
    let keys = Arc::new(KeySet::generate("k1").unwrap());
    let url = serve_jwks(Arc::new(RwLock::new(keys.jwks()))).await;
    let auth: Arc<dyn Authenticator> =
        Arc::new(JwksAuthenticator::new(url, config.clone(), clock.shared()));
    let ann = Principal::user(UserId::new(), SessionId::new());
    let token = TokenIssuer::new(keys, config, clock.shared())
        .issue(&ann)
        .unwrap()
        .token;
    let app = Router::new()
        .route("/who", get(whoami))
        .route("/maybe", get(maybe))
        .with_state(auth);
    let call = |path: &'static str, header: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::get(path);
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 1 << 16)
                .await
                .unwrap();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let me = ann.user_id.to_string();
    assert_eq!(call("/who", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call("/who", Some(format!("Bearer {token}"))).await,
        (StatusCode::OK, me.clone())
    );
    assert_eq!(
        call("/who", Some("Bearer nope".into())).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call("/maybe", None).await,
        (StatusCode::OK, "anonymous".into())
    );
    assert_eq!(
        call("/maybe", Some(format!("bearer {token}"))).await,
        (StatusCode::OK, me)
    );
    assert_eq!(
        call("/maybe", Some("Basic x".into())).await.0,
        StatusCode::UNAUTHORIZED
    );
}
