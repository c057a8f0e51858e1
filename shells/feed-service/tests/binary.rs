//! The real `feed-service` binary: it starts on an empty data directory with the ports it
//! is given, answers health and readiness, serves its routes, and refuses a bad setting
//! with one line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, get, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_feed-service"))
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
    let (status, body) = wait_for_http(http, "/api/v1/health", "feed-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    let (status, body) = get(http, "/api/v1/feed/home").unwrap();
    assert_eq!(
        status, 401,
        "the feed routes are served and need a caller: {body}"
    );
    let (status, body) = get(http, "/api/v1/feed/explore").unwrap();
    assert_eq!(status, 200, "explore is public: {body}");
}

#[test]
fn a_bad_feed_setting_stops_it_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_feed-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("FEED_TIMELINE_CAP", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("feed-service: "), "{stderr}");
    assert!(stderr.contains("FEED_TIMELINE_CAP"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
