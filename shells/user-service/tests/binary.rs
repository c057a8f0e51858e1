//! The real `user-service` binary: it starts on an empty data directory with the ports it is
//! given, answers health and readiness, and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, Service, free_port, get, http};

/// A GET with extra header lines (each ending in `\r\n`).
fn get_as(port: u16, path: &str, headers: &str) -> Option<(u16, String)> {
    http(port, "GET", path, headers, "")
}

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let service = Service::start(env!("CARGO_BIN_EXE_user-service"), "user-service", &[]);
    let (http, data) = (service.http, &service.data);
    assert!(
        data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    let (status, body) = get(http, "/api/v1/users/not-an-id").unwrap();
    assert_eq!(status, 400, "the users routes are served: {body}");
}

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

#[test]
fn callers_are_verified_from_identitys_published_keys() {
    use nova_core::{Principal, SessionId, SystemClock, UserId};
    use nova_identity::{KeySet, TokenConfig, TokenIssuer};

    let keys = std::sync::Arc::new(KeySet::generate("k1").unwrap());
    let url = serve_jwks(keys.jwks().to_string());
    let issuer = TokenIssuer::new(
        keys,
        TokenConfig::new("nova", "nova"),
        SystemClock::shared(),
    );
    let token = issuer
        .issue(&Principal::user(UserId::new(), SessionId::new()))
        .unwrap()
        .token;
    let forged = TokenIssuer::new(
        std::sync::Arc::new(KeySet::generate("k1").unwrap()),
        TokenConfig::new("nova", "nova"),
        SystemClock::shared(),
    )
    .issue(&Principal::user(UserId::new(), SessionId::new()))
    .unwrap()
    .token;

    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_user-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", http.to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("IDENTITY_JWKS_URL", url)
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(http, "/api/v1/health").is_none() {
        assert!(Instant::now() < deadline, "user-service did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let path = "/api/v1/users/me/settings";
    assert_eq!(get(http, path).unwrap().0, 401);
    let bearer = |t: &str| format!("Authorization: Bearer {t}\r\n");
    assert_eq!(get_as(http, path, &bearer(&forged)).unwrap().0, 401);
    // A genuine token gets past authentication: the (unknown) account is simply not found.
    let (status, body) = get_as(http, path, &bearer(&token)).unwrap();
    assert_eq!(status, 404, "{body}");
}
