//! The real `trust-safety-service` binary: it starts on an empty data directory with the
//! ports it is given, answers health and readiness, listens for gRPC, and hides every
//! moderation route from a caller without a moderator token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, get, wait_for_http};

#[test]
fn starts_on_an_empty_data_dir_and_hides_moderation_from_strangers() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_trust-safety-service"))
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
    let (status, body) = wait_for_http(http, "/api/v1/health", "trust-safety-service");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(http, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
        "gRPC listens on NOVA_GRPC_PORT"
    );
    let (missing, missing_body) = get(http, "/api/v1/no-such-route").unwrap();
    for route in [
        "/api/v1/moderation/queue",
        "/api/v1/moderation/audit",
        "/api/v1/moderation/rules",
        "/api/v1/moderation/appeals",
    ] {
        let (status, body) = get(http, route).unwrap();
        assert_eq!(
            (status, body.as_str()),
            (missing, missing_body.as_str()),
            "{route} answers an anonymous caller like a missing route"
        );
    }
    let (status, _) = get(http, "/api/v1/reports").unwrap();
    assert_eq!(status, 401, "reports need a signed-in caller");
}
