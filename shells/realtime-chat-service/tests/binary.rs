//! The real `realtime-chat-service` binary: it starts on an empty data directory with the
//! ports it is given, answers health and readiness, serves chat on gRPC
//! (`nova.chat.v1.ChatService`, beside the key directory), and refuses its chat and key
//! routes, REST and gRPC, without a valid token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, get, http, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_guards_its_routes() {
    let data = tempfile::tempdir().unwrap();
    let (http_port, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_realtime-chat-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http_port.to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let (status, body) = wait_for_http(http_port, "/api/v1/health", "realtime-chat-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http_port, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    // The chat service is mounted and checks tokens: a bad one is refused by the token
    // check (UNAVAILABLE here, with no identity-service to fetch keys from; else
    // UNAUTHENTICATED), where a service that is not mounted answers UNIMPLEMENTED (which
    // the client maps to Internal).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime.block_on(async {
        use nova_chat::ChatApi;
        let client = nova_chat::grpc::ChatGrpcClient::connect(format!("http://127.0.0.1:{grpc}"))
            .await
            .unwrap()
            .with_token("not-a-token");
        let caller =
            nova_core::Principal::user(nova_core::UserId::new(), nova_core::SessionId::new());
        client.dm_policy(&caller).await.unwrap_err()
    });
    assert!(
        matches!(
            err.kind(),
            nova_core::ErrorKind::Unauthenticated | nova_core::ErrorKind::Unavailable
        ),
        "chat gRPC: {err}"
    );
    for path in ["/api/v1/chat/conversations", "/api/v1/chat/settings/dm"] {
        let (status, body) = get(http_port, path).unwrap();
        assert_eq!(status, 401, "{path}: {body}");
    }
    let (status, body) = http(
        http_port,
        "POST",
        "/api/v1/e2ee/devices/query",
        "",
        "{\"user_ids\":[]}",
    )
    .unwrap();
    assert_eq!(status, 401, "{body}");
}
