//! The identity gRPC adapters end to end: a real tonic server over the real
//! `IdentityService` on a SQLite test database, driven through `IdentityGrpcClient`
//! (and, where the typed client cannot express a malformed request, the raw generated
//! client).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_identity::grpc::{IdentityGrpcClient, IdentityGrpcServer};
use nova_identity::model::{
    LoginOutcome, LoginRequest, RegisterRequest, RequestContext, TokenPair,
};
use nova_identity::store::SqlIdentityStore;
use nova_identity::{IdentityApi, IdentityService, KeySet, Passwords};
use nova_proto::nova::identity::v1 as pb;
use pb::identity_service_client::IdentityServiceClient;
use tonic::transport::server::TcpIncoming;

const PASSWORD: &str = "violet-harbour-tram-42";

/// A served identity service and a client connected to it.
struct Served {
    client: IdentityGrpcClient,
    endpoint: String,
    _db: nova_testkit::TestSqlite,
}

async fn serve() -> Served {
    let db = nova_testkit::sqlite().await;
    let keys = Arc::new(KeySet::generate("grpc-test").unwrap());
    let service = IdentityService::builder(Arc::new(SqlIdentityStore::new(db.db().clone())), keys)
        .passwords(Passwords::with_params(4096, 1, 1).unwrap())
        .build();
    let api: Arc<dyn IdentityApi> = Arc::new(service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(IdentityGrpcServer::new(api).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = IdentityGrpcClient::connect(endpoint.clone()).await.unwrap();
    Served {
        client,
        endpoint,
        _db: db,
    }
}

fn ctx() -> RequestContext {
    RequestContext::new(Some("203.0.113.7".parse().unwrap()), "nova-test/1")
}

async fn register(api: &dyn IdentityApi, name: &str) {
    let req = RegisterRequest {
        email: format!("{name}@example.com"),
        username: name.to_owned(),
        password: PASSWORD.to_owned(),
    };
    api.register(req, &ctx()).await.unwrap();
}

async fn login(api: &dyn IdentityApi, name: &str) -> TokenPair {
    let req = LoginRequest {
        identifier: name.to_owned(),
        password: PASSWORD.to_owned(),
        device_token: None,
        code: None,
    };
    match api.login(req, &ctx()).await.unwrap() {
        LoginOutcome::Authenticated(pair) => pair,
        other => panic!("expected tokens, got {other:?}"),
    }
}

fn kind(err: &Error) -> ErrorKind {
    err.kind().clone()
}

#[tokio::test]
async fn register_login_refresh_sessions_logout() {
    let served = serve().await;
    let api = &served.client;

    let account = api
        .register(
            RegisterRequest {
                email: "alice@example.com".into(),
                username: "alice".into(),
                password: PASSWORD.into(),
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(account.username, "alice");
    assert_eq!(account.email, "alice@example.com");
    assert!(!account.email_verified);

    let pair = login(api, "alice").await;
    assert_eq!(pair.user_id, account.id);
    assert_eq!(pair.token_type, "Bearer");

    // The verify-then-call flow works on the plain client: it remembers the verified token.
    let principal = api.verify_access_token(&pair.access_token).await.unwrap();
    assert_eq!(principal.user_id, account.id);
    assert_eq!(principal.session_id, pair.session_id);
    assert_eq!(api.account(&principal).await.unwrap(), account);

    let refreshed = api.refresh(&pair.refresh_token, &ctx()).await.unwrap();
    assert_eq!(refreshed.session_id, pair.session_id);
    assert_ne!(refreshed.refresh_token, pair.refresh_token);

    // A second device; the first lists both, its own marked current.
    let other = login(api, "alice").await;
    let alice = api.with_token(refreshed.access_token.clone());
    let sessions = alice.sessions(&principal).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let own = sessions.iter().find(|s| s.id == pair.session_id).unwrap();
    assert!(own.current);
    assert_eq!(own.user_agent, "nova-test/1");
    assert!(
        sessions
            .iter()
            .any(|s| s.id == other.session_id && !s.current)
    );

    alice
        .revoke_session(&principal, other.session_id)
        .await
        .unwrap();
    assert_eq!(alice.sessions(&principal).await.unwrap().len(), 1);

    let jwks = api.jwks().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "grpc-test");

    alice.logout(&principal).await.unwrap();
    // The server checks the session on every call: an ended session's token stops at once.
    let err = alice.account(&principal).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);
    let err = api
        .refresh(&refreshed.refresh_token, &ctx())
        .await
        .unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn errors_keep_their_kind_across_the_wire() {
    let served = serve().await;
    let api = &served.client;

    let bad_email = RegisterRequest {
        email: "not-an-email".into(),
        username: "bob".into(),
        password: PASSWORD.into(),
    };
    let err = api.register(bad_email, &ctx()).await.unwrap_err();
    assert_eq!(err.field(), Some("email"), "{err}");

    register(api, "bob").await;
    // A taken username (a taken email answers like a new registration).
    let duplicate = RegisterRequest {
        email: "bobby@example.com".into(),
        username: "BOB".into(),
        password: PASSWORD.into(),
    };
    let err = api.register(duplicate, &ctx()).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Conflict, "{err}");

    let wrong = LoginRequest {
        identifier: "bob".into(),
        password: "violet-harbour-tram-43".into(),
        device_token: None,
        code: None,
    };
    let err = api.login(wrong, &ctx()).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);

    // Malformed fields the typed client cannot send: the server names them.
    let pair = login(api, "bob").await;
    let mut raw = IdentityServiceClient::connect(served.endpoint.clone())
        .await
        .unwrap();
    let mut request = tonic::Request::new(pb::RevokeSessionRequest {
        session_id: "not-a-uuid".into(),
    });
    let bearer = format!("Bearer {}", pair.access_token).parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    let err = Error::from(raw.revoke_session(request).await.unwrap_err());
    assert_eq!(err.field(), Some("session_id"), "{err}");

    let request = pb::LoginRequest {
        identifier: "bob".into(),
        password: PASSWORD.into(),
        context: Some(pb::RequestContext {
            ip: "999.1.2.3".into(),
            user_agent: String::new(),
        }),
        ..Default::default()
    };
    let err = Error::from(raw.login(request).await.unwrap_err());
    assert_eq!(err.field(), Some("context.ip"), "{err}");
}

#[tokio::test]
async fn principal_calls_need_a_valid_token() {
    let served = serve().await;
    let api = &served.client;
    register(api, "carol").await;
    let pair = login(api, "carol").await;
    let carol = Principal::user(pair.user_id, pair.session_id);

    // A principal the client holds no token for: refused before anything is sent.
    let err = api.account(&carol).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);
    let stranger = Principal::user(UserId::new(), SessionId::new());
    let err = api.sessions(&stranger).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);

    // A token that does not verify.
    let forged = api.with_token("eyJhbGciOiJub25lIn0.e30.");
    let err = forged.account(&carol).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);

    // A valid token used for another principal's session.
    let with_token = api.with_token(pair.access_token.clone());
    let err = with_token.logout_everywhere(&stranger).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Unauthenticated);
    assert_eq!(with_token.account(&carol).await.unwrap().username, "carol");

    // No authorization metadata at all, straight to the server.
    let mut raw = IdentityServiceClient::connect(served.endpoint.clone())
        .await
        .unwrap();
    let status = raw.get_account(pb::GetAccountRequest {}).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(pb::GetAccountRequest {});
    request
        .metadata_mut()
        .insert("authorization", "Basic Y2Fyb2w6eA==".parse().unwrap());
    let status = raw.get_account(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn passkeys_register_sign_in_and_are_managed_over_grpc() {
    use webauthn_authenticator_rs::AuthenticatorBackend;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

    let served = serve().await;
    let api = &served.client;
    register(api, "pat").await;
    let pair = login(api, "pat").await;
    let principal = api.verify_access_token(&pair.access_token).await.unwrap();
    let origin = url::Url::parse("http://localhost:8000").unwrap();
    let mut device = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);

    let start = api.passkey_register_start(&principal).await.unwrap();
    let options: CreationChallengeResponse = serde_json::from_value(start.options).unwrap();
    let credential = device
        .perform_register(origin.clone(), options.public_key, 60_000)
        .unwrap();
    let credential = serde_json::to_value(&credential).unwrap();
    let passkey = api
        .passkey_register_finish(&principal, &start.ceremony, &credential, "Laptop")
        .await
        .unwrap();
    assert_eq!(passkey.name, "Laptop");
    // A bad credential names its field across the wire.
    let again = api.passkey_register_start(&principal).await.unwrap();
    let err = api
        .passkey_register_finish(&principal, &again.ceremony, &serde_json::json!([]), "x")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("credential"));

    let start = api.passkey_login_start(Some("pat"), &ctx()).await.unwrap();
    let options: RequestChallengeResponse = serde_json::from_value(start.options).unwrap();
    let assertion = device
        .perform_auth(origin, options.public_key, 60_000)
        .unwrap();
    let assertion = serde_json::to_value(&assertion).unwrap();
    let signed_in = api
        .passkey_login_finish(&start.ceremony, &assertion, &ctx())
        .await
        .unwrap();
    assert_eq!(signed_in.user_id, pair.user_id);
    let replay = api
        .passkey_login_finish(&start.ceremony, &assertion, &ctx())
        .await
        .unwrap_err();
    assert_eq!(kind(&replay), ErrorKind::Unauthenticated);

    let listed = api.passkeys(&principal).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sign_count, 1);
    assert!(listed[0].last_used_at.is_some());
    let renamed = api
        .rename_passkey(&principal, passkey.id, "Desk")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Desk");
    assert_eq!(
        api.delete_passkey(&principal, passkey.id, true)
            .await
            .unwrap(),
        1
    );
    assert!(api.passkeys(&principal).await.unwrap().is_empty());
}
