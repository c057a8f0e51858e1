//! The real `nova` binary, as a newcomer runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{free_port, get, http};

/// A plain HTTP/1.1 request with an optional JSON body and bearer token.
fn request(
    port: u16,
    method: &str,
    path: &str,
    json: Option<&str>,
    token: Option<&str>,
) -> Option<(u16, String)> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    http(port, method, path, &auth, json.unwrap_or(""))
}

struct Nova {
    child: Child,
    port: u16,
    _data: std::sync::Arc<tempfile::TempDir>,
}

impl Nova {
    fn start() -> Self {
        Self::start_in(std::sync::Arc::new(tempfile::tempdir().unwrap()))
    }

    fn start_in(data: std::sync::Arc<tempfile::TempDir>) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_nova"))
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_HTTP_PORT", port.to_string())
            .env("NOVA_LOG", "warn")
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
}

impl Drop for Nova {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serves_health_readiness_and_prometheus_metrics_with_no_configuration() {
    let nova = Nova::start();
    let (status, body) = get(nova.port, "/api/v1/health").unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(nova.port, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        nova._data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    let (status, metrics) = get(nova.port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("nova_http_requests_total"),
        "Prometheus text with Nova's metric names:\n{metrics}"
    );
    assert!(metrics.contains("# TYPE"), "{metrics}");
    assert!(
        metrics.contains(r#"nova_http_requests_total{service="graphql-gateway""#),
        "every metric carries the service label:\n{metrics}"
    );
}

/// The value of `"key":"..."` in a JSON text (enough for these checks).
fn json_str(json: &str, key: &str) -> String {
    let v: Vec<&str> = json.split(&format!("\"{key}\":\"")).collect();
    v.get(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn identity_works_in_the_all_in_one_and_keys_survive_a_restart() {
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let nova = Nova::start_in(data.clone());
    let (status, body) = request(
        nova.port,
        "POST",
        "/api/v1/auth/register",
        Some(r#"{"email":"ann@example.com","username":"ann","password":"correct horse battery staple"}"#),
        None,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, body) = request(
        nova.port,
        "POST",
        "/api/v1/auth/login",
        Some(r#"{"identifier":"ann","password":"correct horse battery staple"}"#),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = json_str(&body, "access_token");
    assert!(!token.is_empty(), "{body}");
    let (status, jwks) = get(nova.port, "/.well-known/jwks.json").unwrap();
    assert_eq!(status, 200);
    assert!(jwks.contains("RS256"), "{jwks}");
    drop(nova);

    // Same data directory: same signing key, so the token still verifies.
    let nova = Nova::start_in(data);
    let (status, me) = request(nova.port, "GET", "/api/v1/auth/me", None, Some(&token)).unwrap();
    assert_eq!(status, 200, "{me}");
    assert!(me.contains("ann@example.com"));
}

#[test]
fn a_bad_environment_value_is_a_one_line_error_naming_it() {
    let data = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("NOVA_HTTP_PORT", "abc"),
        ("GRAPHQL_GATEWAY_PORT", "99999"),
        ("DATABASE_URL", "mysql://nope"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_nova"))
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} must stop nova");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<_> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].contains(var), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let mut nova = Nova::start();
    let pid = nova.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = nova.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "nova did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn register_login_edit_the_profile_and_follow_someone() {
    let nova = Nova::start();
    let port = nova.port;
    for name in ["cat", "dan"] {
        let body = format!(
            r#"{{"email":"{name}@example.com","username":"{name}","password":"correct horse battery staple"}}"#
        );
        let (status, body) =
            request(port, "POST", "/api/v1/auth/register", Some(&body), None).unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/auth/login",
        Some(r#"{"identifier":"cat","password":"correct horse battery staple"}"#),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = json_str(&body, "access_token");

    let (status, profile) = request(
        port,
        "PATCH",
        "/api/v1/users/me",
        Some(r#"{"display_name":"Cat","bio":"hello"}"#),
        Some(&token),
    )
    .unwrap();
    assert_eq!(status, 200, "{profile}");
    assert_eq!(json_str(&profile, "display_name"), "Cat");
    let cat = json_str(&profile, "user_id");
    let (status, _) = request(port, "PATCH", "/api/v1/users/me", Some("{}"), None).unwrap();
    assert_eq!(status, 401, "profile changes need a token");

    let (status, dan) = get(port, "/api/v1/users/by-username/dan").unwrap();
    assert_eq!(status, 200, "{dan}");
    let dan = json_str(&dan, "user_id");
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/v1/social/follows/{dan}"),
        None,
        Some(&token),
    )
    .unwrap();
    assert_eq!(
        (status, json_str(&body, "outcome")),
        (200, "following".into()),
        "{body}"
    );
    let (status, followers) = get(port, &format!("/api/v1/social/users/{dan}/followers")).unwrap();
    assert_eq!(status, 200, "{followers}");
    assert!(followers.contains(&cat), "{followers}");

    // Content is wired too: cat posts, and reposting goes through social, which asks
    // content whether cat may see the post.
    let (status, post) = request(
        port,
        "POST",
        "/api/v1/posts",
        Some(r#"{"text":"first post #nova"}"#),
        Some(&token),
    )
    .unwrap();
    assert_eq!(status, 201, "{post}");
    let post_id = json_str(&post, "id");
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/v1/posts/{post_id}/like"),
        None,
        Some(&token),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/v1/social/reposts/{post_id}"),
        None,
        Some(&token),
    )
    .unwrap();
    assert!(status < 300, "repost of a visible post: {status} {body}");
    let (status, body) = request(
        port,
        "POST",
        &format!(
            "/api/v1/social/reposts/{}",
            "01a21d9b-c87c-76b3-8a39-e021d812fee7"
        ),
        None,
        Some(&token),
    )
    .unwrap();
    assert_eq!(status, 404, "repost of a missing post: {body}");
    let (status, read) = get(port, &format!("/api/v1/posts/{post_id}")).unwrap();
    assert_eq!(status, 200, "{read}");
    assert!(read.contains(r#""like_count":1"#), "{read}");
}

/// Runs `nova` with `args` and no configuration; `(exit code, stdout, stderr)`.
fn run_nova(args: &[&str]) -> (Option<i32>, String, String) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_nova"))
        .args(args)
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .output()
        .unwrap();
    // Whatever it printed, it never served.
    assert!(get(port, "/api/v1/health").is_none());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version_start_no_server_and_a_bad_flag_is_named() {
    let (code, help, _) = run_nova(&["--help"]);
    assert_eq!(code, Some(0));
    for expected in [
        "demo",
        "check-config",
        "NOVA_DATA_DIR",
        "DATABASE_URL",
        "IDENTITY_ENCRYPTION_KEYS",
        "GRAPHQL_GATEWAY_PORT",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }

    let (code, version, _) = run_nova(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(
        version.starts_with(&format!("nova {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert!(version.contains('('), "the git commit is named: {version}");

    let (code, _, stderr) = run_nova(&["--bogus"]);
    assert_eq!(code, Some(2));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--bogus"), "{stderr}");

    let (code, stdout, stderr) = run_nova(&["check-config"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");
}
