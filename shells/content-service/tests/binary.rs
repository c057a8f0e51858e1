//! The real `content-service` binary: it starts on a data directory with the ports it is
//! given, answers health and readiness, verifies callers from identity's published keys,
//! and serves the same posts over REST and gRPC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use nova_content::ContentApi;
use nova_content::grpc::ContentGrpcClient;
use nova_core::{ErrorKind, PostId, Principal, SessionId, SystemClock};
use nova_identity::{KeySet, TokenConfig, TokenIssuer};
use nova_testkit::process::{
    Running, assert_refused_at_start, free_port, get, http, wait_for_http,
};

/// Serves `jwks` at `/.well-known/jwks.json` on a thread; returns its URL.
fn serve_jwks(jwks: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{jwks}",
                jwks.len()
            );
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_created_over_rest_reads_back_over_grpc() {
    // The account exists before the service starts (identity-service would create it in
    // the shared database); the token is signed by keys published at IDENTITY_JWKS_URL.
    let data = tempfile::tempdir().unwrap();
    let db = nova_db::Db::open_sqlite_file(&data.path().join("nova.db"), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let ann = nova_identity::fixtures::account(&db, "ann").await.unwrap();
    db.close().await;
    let ann = Principal::user(ann.user_id, SessionId::new());
    let keys = std::sync::Arc::new(KeySet::generate("k1").unwrap());
    let jwks_url = serve_jwks(keys.jwks().to_string());
    let issuer = TokenIssuer::new(
        keys,
        TokenConfig::new("nova", "nova"),
        SystemClock::shared(),
    );
    let token = issuer.issue(&ann).unwrap().token;

    let (http_port, grpc_port) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_content-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http_port.to_string())
        .env("NOVA_GRPC_PORT", grpc_port.to_string())
        .env("IDENTITY_JWKS_URL", jwks_url)
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let (status, body) = tokio::task::spawn_blocking(move || {
        wait_for_http(http_port, "/api/v1/health", "content-service");
        get(http_port, "/api/v1/ready").unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");

    // REST: no token, no post; with ann's token, a post.
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let (unauthenticated, (status, body)) = tokio::task::spawn_blocking(move || {
        let body = r#"{"text": "hello from REST #nova"}"#;
        (
            http(http_port, "POST", "/api/v1/posts", "", body)
                .unwrap()
                .0,
            http(http_port, "POST", "/api/v1/posts", &bearer, body).unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(unauthenticated, 401);
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id: PostId = created["id"].as_str().unwrap().parse().unwrap();

    // gRPC: the same post, anonymously and as ann; a missing one is NotFound.
    let client = ContentGrpcClient::connect(format!("http://127.0.0.1:{grpc_port}"))
        .await
        .unwrap();
    let post = client.post(None, id).await.unwrap();
    assert_eq!(post.author_id, ann.user_id);
    assert_eq!(post.text, "hello from REST #nova");
    let as_ann = client.with_token(token);
    assert!(as_ann.like(&ann, id).await.unwrap());
    let post = as_ann.post(Some(&ann), id).await.unwrap();
    assert_eq!((post.like_count, post.liked_by_viewer), (1, true));
    assert_eq!(
        client.post(None, PostId::new()).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    // Reposts live with the post: over gRPC, and a missing post answers NotFound.
    assert!(as_ann.repost(&ann, id).await.unwrap());
    assert_eq!(
        as_ann.repost(&ann, PostId::new()).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
}

#[test]
fn a_bad_social_service_url_stops_it_with_one_line() {
    assert_refused_at_start(
        env!("CARGO_BIN_EXE_content-service"),
        "content-service",
        &[("SOCIAL_SERVICE_URL", "http://bad host:9093")],
        "SOCIAL_SERVICE_URL",
    );
}

#[test]
fn with_remote_social_graph_and_users_it_starts_before_they_do() {
    let data = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let nowhere = || format!("http://127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_content-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http_port.to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("SOCIAL_SERVICE_URL", nowhere())
        .env("GRAPH_SERVICE_URL", nowhere())
        .env("USER_SERVICE_URL", nowhere())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let (status, body) = wait_for_http(http_port, "/api/v1/health", "content-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http_port, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "its own backends answer: {body}");
}
