//! The real `graph-service` binary: it starts on an empty data directory with the ports it is
//! given, answers health and readiness, and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, free_port, get, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_graph-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http.to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let (status, body) = wait_for_http(http, "/api/v1/health", "graph-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    let (status, _) = get(http, "/api/v1/social/requests").unwrap();
    assert_eq!(status, 404, "graph is internal: no REST routes");
}

#[tokio::test]
async fn serves_the_graph_api_over_grpc() {
    use nova_graph::GraphApi;
    use nova_graph::grpc::GraphGrpcClient;

    let data = tempfile::tempdir().unwrap();
    let grpc = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_graph-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let graph = loop {
        match GraphGrpcClient::connect(endpoint.clone()).await {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("graph-service did not come up: {e}"),
        }
    };
    let (a, b) = (nova_core::UserId::new(), nova_core::UserId::new());
    assert!(graph.follow(a, b).await.unwrap());
    assert_eq!(graph.counts(&[b]).await.unwrap()[0].followers, 1);
    let page = graph.followers(b, 0, None).await.unwrap();
    assert_eq!(page.items, [a]);
    // Cursors are signed with the key kept in the data directory.
    assert!(data.path().join("cursor.key").exists());
}
