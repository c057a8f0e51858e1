//! The real `search-service` binary: it starts on an empty data directory with the ports
//! it is given, answers health and readiness, keeps its index under the data directory
//! and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, get, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_answers_search() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_search-service"))
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
    let (status, body) = wait_for_http(http, "/api/v1/health", "search-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    assert!(
        data.path().join("search").is_dir(),
        "the index lives under NOVA_DATA_DIR/search"
    );
    let (status, body) = get(http, "/api/v1/search?q=rust&type=posts").unwrap();
    assert_eq!(status, 200, "anonymous search is served: {body}");
    assert!(body.contains("\"items\":[]"), "{body}");
    let (status, body) = get(http, "/api/v1/search?q=rust&type=groups").unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("type"), "the error names the field: {body}");
}
