//! The real `media-service` binary: it starts on an empty data directory with the ports
//! it is given, answers health and readiness, listens for gRPC, refuses its routes
//! without a token and its file links without a valid signature.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, get, http, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_guards_its_routes() {
    let data = tempfile::tempdir().unwrap();
    let (http_port, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_media-service"))
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
    let (status, body) = wait_for_http(http_port, "/api/v1/health", "media-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http_port, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    assert!(
        data.path().join("media").is_dir(),
        "local storage under NOVA_DATA_DIR/media"
    );
    let (status, body) = http(http_port, "POST", "/api/v1/media", "", "GIF89a").unwrap();
    assert_eq!(status, 401, "{body}");
    let (status, body) = get(
        http_port,
        "/api/v1/media/0190a0a0-0000-7000-8000-000000000001",
    )
    .unwrap();
    assert_eq!(status, 401, "{body}");
    let (status, body) = get(
        http_port,
        "/media/files/v/x/thumb.webp?exp=9999999999&sig=AAAA",
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    let (status, body) = get(http_port, "/media/files/v/x/thumb.webp").unwrap();
    assert_eq!(status, 403, "{body}");
}

#[test]
fn a_bad_media_variable_stops_the_start_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_media-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("MEDIA_URL_TTL_SECS", "forever")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MEDIA_URL_TTL_SECS"), "{stderr}");
}
