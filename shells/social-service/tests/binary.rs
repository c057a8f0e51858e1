//! The real `social-service` binary: it starts on an empty data directory with the ports it is
//! given, answers health and readiness, and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, Service, assert_refused_at_start, free_port, get};

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let service = Service::start(env!("CARGO_BIN_EXE_social-service"), "social-service", &[]);
    let (http, data) = (service.http, &service.data);
    assert!(
        data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    let (status, body) = get(http, "/api/v1/social/requests").unwrap();
    assert_eq!(
        status, 401,
        "the social routes are served and need a caller: {body}"
    );
}

#[test]
fn a_bad_graph_service_url_stops_it_with_one_line() {
    assert_refused_at_start(
        env!("CARGO_BIN_EXE_social-service"),
        "social-service",
        &[("GRAPH_SERVICE_URL", "http://bad host:9091")],
        "GRAPH_SERVICE_URL",
    );
}

#[test]
fn with_remote_graph_and_users_it_starts_before_they_do() {
    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_social-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http.to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env(
            "GRAPH_SERVICE_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env(
            "USER_SERVICE_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(http, "/api/v1/health").is_none() {
        assert!(Instant::now() < deadline, "social-service did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _) = get(http, "/api/v1/health").unwrap();
    assert_eq!(status, 200);
}
