//! `nova demo` against the real binary: it seeds the network through the domains, a
//! second start leaves it alone, and the seeded accounts log in with the demo password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, http, wait_for_http};

fn start_demo(data: &std::path::Path) -> (Running, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .arg("demo")
        .env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let running = Running(child);
    wait_for_http(port, "/api/v1/health", "nova demo");
    (running, port)
}

#[test]
fn demo_seeds_once_and_its_accounts_log_in() {
    let data = tempfile::tempdir().unwrap();
    let (nova, port) = start_demo(data.path());
    let (status, body) = http(port, "GET", "/api/v1/users/by-username/grace", "", "").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Grace Hopper"), "{body}");
    let login = r#"{"identifier":"ada","password":"nova-demo-password"}"#;
    let (status, body) = http(port, "POST", "/api/v1/auth/login", "", login).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("access_token"), "{body}");
    drop(nova);

    // A second start on the same data keeps the one network (no duplicate accounts,
    // no error from re-registering).
    let (_nova, port) = start_demo(data.path());
    let (status, _) = http(port, "GET", "/api/v1/users/by-username/ada", "", "").unwrap();
    assert_eq!(status, 200);
}

#[test]
fn an_unknown_command_is_one_line_and_exit_code_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_nova"))
        .arg("dmeo")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("dmeo"), "{stderr}");
}
