//! The edge of the real `nova` binary against a client that lies about its address:
//! `X-Forwarded-For` moves the rate-limit bucket only behind a trusted proxy
//! (`NOVA_TRUSTED_PROXIES`), and then only to the right-most hop that is not a proxy.
//! REST and GraphQL spend the same login budget.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{free_port, get, http};

struct Nova {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Nova {
    fn start(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_nova"))
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_HTTP_PORT", port.to_string())
            .env("NOVA_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let nova = Nova {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(port, "/api/v1/health").is_none() {
            assert!(Instant::now() < deadline, "nova did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        nova
    }

    /// A failed REST login claiming to come through `forwarded`; the status.
    fn failed_login(&self, forwarded: &str) -> u16 {
        let headers = format!("X-Forwarded-For: {forwarded}\r\nX-Real-IP: {forwarded}\r\n");
        let body = r#"{"identifier": "nobody-here", "password": "not the password"}"#;
        http(self.port, "POST", "/api/v1/auth/login", &headers, body)
            .unwrap()
            .0
    }

    /// A failed GraphQL login claiming to come through `forwarded`; the error code.
    fn failed_graphql_login(&self, forwarded: &str) -> String {
        let headers = format!("X-Forwarded-For: {forwarded}\r\n");
        let body = serde_json::json!({
            "query": "mutation { login(identifier: \"nobody-here\", password: \"nope nope\") { tokens { accessToken } } }"
        })
        .to_string();
        let (_, answer) = http(self.port, "POST", "/graphql", &headers, &body).unwrap();
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        answer["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Nova {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A different made-up public address each call.
fn spoofed(i: u32) -> String {
    format!("198.51.{}.{}", i / 250, 1 + i % 250)
}

#[test]
fn a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_change_the_bucket() {
    let nova = Nova::start(&[]);
    let statuses: Vec<u16> = (0..20).map(|i| nova.failed_login(&spoofed(i))).collect();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    // 10 login attempts per minute per address: the header changed nothing.
    assert!(limited >= 10, "{statuses:?}");
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    // GraphQL spends the same bucket.
    assert_eq!(nova.failed_graphql_login(&spoofed(999)), "RATE_LIMITED");
}

#[test]
fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
    let nova = Nova::start(&[("NOVA_TRUSTED_PROXIES", "127.0.0.1/32")]);
    // Each request from another client (the right-most hop): no shared budget.
    let statuses: Vec<u16> = (0..15)
        .map(|i| nova.failed_login(&format!("10.9.9.9, {}", spoofed(i))))
        .collect();
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    // One client that puts a new fake address left of itself each time: the proxy's
    // hop (right-most) is what counts, so it runs out after 10.
    let statuses: Vec<u16> = (0..15)
        .map(|i| nova.failed_login(&format!("{}, 203.0.113.50", spoofed(100 + i))))
        .collect();
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // GraphQL follows the same rule and the same bucket.
    assert_eq!(
        nova.failed_graphql_login("6.6.6.6, 203.0.113.50"),
        "RATE_LIMITED"
    );
    assert_ne!(
        nova.failed_graphql_login("6.6.6.6, 203.0.113.51"),
        "RATE_LIMITED"
    );
}

#[test]
fn a_bad_trusted_proxy_list_stops_the_start_naming_the_variable() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_TRUSTED_PROXIES", "10.0.0.0/8, the-ingress")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NOVA_TRUSTED_PROXIES"), "{stderr}");
}
