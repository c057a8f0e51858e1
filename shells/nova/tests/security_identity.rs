//! Issue 15, identity side, against the real `nova` binary from outside: wrong
//! second-factor codes lock the factor across fresh challenges; a flood of 500 concurrent
//! logins keeps memory bounded and is answered with clean 401/429/503s (503s with
//! `Retry-After`); production refuses to start without its secrets; an OpenID login
//! never links to an account whose email was not verified (a local provider configured
//! through `OIDC_*`); a logout closes the session's open GraphQL subscriptions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nova_core::SystemClock;
use nova_identity::{Totp, TotpSecret};
use nova_testkit::process::{free_port, get};
use serde_json::{Value, json};

struct Nova {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Nova {
    fn start(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_nova"));
        command
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_HTTP_PORT", port.to_string())
            .env("NOVA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().unwrap();
        let nova = Nova {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(port, "/api/v1/health").is_none() {
            assert!(Instant::now() < deadline, "nova did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        nova
    }

    /// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }
}

impl Drop for Nova {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; `(status, head, body)`, or `None` when the connection failed.
fn call(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: Option<Value>,
) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((status, head.to_ascii_lowercase(), body.to_owned()))
}

/// [`call`] with the reason a request got no answer (for the flood).
fn raw_call(
    port: u16,
    path: &str,
    headers: &str,
    body: &Value,
) -> Result<(u16, String, String), String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let body = body.to_string();
    // One write: the whole request in one segment.
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e} after {response:?}"))?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {response:?}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no head in {response:?}"))?;
    Ok((status, head.to_ascii_lowercase(), body.to_owned()))
}

/// A JSON call that must answer; `(status, body as JSON or Null)`. Each call comes from a
/// new forwarded address (believed only where the test trusts 127.0.0.1 as a proxy), as an
/// attacker spreading guesses over many addresses would, so only per-account budgets apply.
fn json_call(port: u16, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    static NEXT_ADDRESS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT_ADDRESS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut headers = format!("X-Forwarded-For: 10.77.{}.{}\r\n", n / 250, n % 250 + 1);
    if let Some(t) = token {
        headers.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let (status, _, text) = call(port, "POST", path, &headers, Some(body))
        .unwrap_or_else(|| panic!("nothing answered {path}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const PASSWORD: &str = "correct horse battery staple";

fn login(port: u16, name: &str) -> Value {
    let (status, body) = json_call(
        port,
        "/api/v1/auth/login",
        None,
        json!({ "identifier": name, "password": PASSWORD }),
    );
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn wrong_second_factor_codes_lock_the_factor_across_fresh_challenges() {
    // Behind a trusted proxy every guess comes from another address, so the per-address
    // login budget never stops them: the per-account factor budget must.
    let nova = Nova::start(&[("NOVA_TRUSTED_PROXIES", "127.0.0.1/32")]);
    let port = nova.port;
    let (status, body) = json_call(
        port,
        "/api/v1/auth/register",
        None,
        json!({ "email": "ann@example.com", "username": "ann", "password": PASSWORD }),
    );
    assert_eq!(status, 201, "{body}");
    let access = login(port, "ann")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, enrollment) = json_call(port, "/api/v1/auth/2fa/enroll", Some(&access), json!({}));
    assert_eq!(status, 200, "{enrollment}");
    let totp = Totp::new(
        &TotpSecret::from_base32(enrollment["secret"].as_str().unwrap()).unwrap(),
        "ann",
        SystemClock::shared(),
    )
    .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let (status, confirmed) = json_call(
        port,
        "/api/v1/auth/2fa/confirm",
        Some(&access),
        json!({ "code": totp.code_at(now()) }),
    );
    assert_eq!(status, 200, "{confirmed}");
    let recovery = confirmed["recovery_codes"][0].as_str().unwrap().to_owned();
    // Never one of the codes valid around now.
    let wrong = |t: u64| {
        let valid: Vec<String> = [t - 30, t, t + 30, t + 60]
            .iter()
            .map(|s| totp.code_at(*s))
            .collect();
        (0..)
            .map(|n: u32| format!("{:06}", 654_321 + n))
            .find(|c| !valid.contains(c))
            .unwrap()
    };
    let fresh_challenge = || {
        let outcome = login(port, "ann");
        assert_eq!(outcome["status"], "two_factor_required", "{outcome}");
        outcome["challenge"].as_str().unwrap().to_owned()
    };

    // Ten wrong codes over three fresh challenges (each allows five on its own).
    let mut failures = 0;
    for per_challenge in [4, 4, 2] {
        let challenge = fresh_challenge();
        for _ in 0..per_challenge {
            let (status, body) = json_call(
                port,
                "/api/v1/auth/login/2fa",
                None,
                json!({ "challenge": challenge, "code": wrong(now()) }),
            );
            failures += 1;
            assert_eq!(status, 401, "failure {failures}: {body}");
        }
    }
    // The factor is locked now: the right code and a recovery code both wait.
    let challenge = fresh_challenge();
    for code in [totp.code_at(now()), recovery] {
        let (status, body) = json_call(
            port,
            "/api/v1/auth/login/2fa",
            None,
            json!({ "challenge": challenge, "code": code }),
        );
        assert_eq!(status, 429, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("locked"),
            "{body}"
        );
    }
}

#[test]
fn five_hundred_concurrent_logins_keep_memory_bounded_and_answer_cleanly() {
    // Two hashes at once; forwarding headers believed from loopback so each request has
    // an address (and budget) of its own and really reaches the hashing queue.
    let nova = Nova::start(&[
        ("IDENTITY_MAX_CONCURRENT_HASHES", "2"),
        ("NOVA_TRUSTED_PROXIES", "127.0.0.1/32"),
        // Each 503 is logged; keep the test output readable.
        ("NOVA_LOG", "off"),
    ]);
    let port = nova.port;
    // Warm up (the dummy hash is made on first use), then take the baseline.
    let (status, _, _) = call(
        port,
        "POST",
        "/api/v1/auth/login",
        "X-Forwarded-For: 10.255.0.1\r\n",
        Some(json!({ "identifier": "warm", "password": "guess guess guess" })),
    )
    .unwrap();
    assert_eq!(status, 401);
    let baseline = nova.memory_kib("VmRSS");

    let start = std::sync::Arc::new(std::sync::Barrier::new(500));
    let threads: Vec<_> = (0..500u32)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                raw_call(
                    port,
                    "/api/v1/auth/login",
                    &format!("X-Forwarded-For: 10.{}.{}.7\r\n", i / 200, i % 200),
                    &json!({ "identifier": format!("flood{i}"), "password": "guess guess guess" }),
                )
            })
        })
        .collect();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let peak = nova.memory_kib("VmHWM");

    let mut counts = std::collections::BTreeMap::new();
    for answer in &answers {
        let (status, head, body) = answer
            .as_ref()
            .unwrap_or_else(|e| panic!("every request gets an answer: {e}"));
        *counts.entry(*status).or_insert(0) += 1;
        assert!(
            [401, 429, 503].contains(status),
            "unexpected {status}: {body}"
        );
        if *status == 503 {
            assert!(
                head.contains("\r\nretry-after: "),
                "503 without Retry-After:\n{head}"
            );
            assert!(body.contains("busy"), "{body}");
        }
    }
    assert!(
        counts.get(&503).copied().unwrap_or(0) > 0,
        "the hashing queue never filled: {counts:?}"
    );
    // Two running hashes of 19 MiB each plus connections, not hundreds of hashes.
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!("500 concurrent logins: {counts:?}, peak RSS {baseline} KiB -> {peak} KiB");
    assert!(
        growth_mib < 200,
        "memory grew by {growth_mib} MiB under the flood ({counts:?})"
    );
    // Still serving.
    assert_eq!(get(port, "/api/v1/health").unwrap().0, 200);
}

#[test]
fn production_refuses_to_start_without_its_secrets() {
    let example = include_str!("../../../deploy/.env.example");
    let placeholder = |name: &str| {
        example
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let real_cursor = "q8Yh3v0Jx2mB7cN1pL4sT6wZ9rE5uK0aG3dF8hJ2".to_owned();
    let cases = [
        (vec![], "NOVA_CURSOR_SECRET"),
        (
            vec![("NOVA_CURSOR_SECRET", placeholder("NOVA_CURSOR_SECRET"))],
            "NOVA_CURSOR_SECRET",
        ),
        (
            vec![("NOVA_CURSOR_SECRET", real_cursor.clone())],
            "IDENTITY_ENCRYPTION_KEYS",
        ),
        (
            vec![
                ("NOVA_CURSOR_SECRET", real_cursor),
                (
                    "IDENTITY_ENCRYPTION_KEYS",
                    placeholder("IDENTITY_ENCRYPTION_KEYS"),
                ),
            ],
            "IDENTITY_ENCRYPTION_KEYS",
        ),
    ];
    for (env, named) in cases {
        let data = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_nova"));
        command
            .env_clear()
            .env("NOVA_ENV", "production")
            .env("NOVA_LOG", "off")
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_HTTP_PORT", free_port().to_string());
        for (k, v) in &env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        assert!(!out.status.success(), "{env:?} must stop nova");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line for {env:?}:\n{stderr}");
        assert!(lines[0].contains(named), "{env:?}: {stderr}");
    }
}

/// `GET` with a JSON answer; `(status, body as JSON or Null)`.
fn get_json(port: u16, path: &str) -> (u16, Value) {
    let (status, _, text) =
        call(port, "GET", path, "", None).unwrap_or_else(|| panic!("nothing answered {path}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const REDIRECT: &str = "http://127.0.0.1/callback";

/// Plays the browser through an OpenID login at `nova`'s provider `local`: start, follow
/// the provider's redirect, and hand the code back to the callback.
fn provider_login(rt: &tokio::runtime::Runtime, port: u16) -> (u16, Value) {
    let (status, start) = get_json(
        port,
        &format!("/api/v1/auth/oauth/local/start?redirect_uri={REDIRECT}"),
    );
    assert_eq!(status, 200, "{start}");
    let authorization = start["authorization_url"].as_str().unwrap().to_owned();
    let location = rt.block_on(async {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = browser.get(&authorization).send().await.unwrap();
        assert_eq!(response.status(), 302);
        response.headers()["location"].to_str().unwrap().to_owned()
    });
    let back = url::Url::parse(&location).unwrap();
    let params: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    get_json(
        port,
        &format!(
            "/api/v1/auth/oauth/local/callback?code={}&state={}",
            params["code"], params["state"]
        ),
    )
}

#[test]
fn an_openid_login_never_links_to_an_unverified_account() {
    use nova_identity::fixtures::oidc::{self, OidcTestProvider};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let provider = rt.block_on(OidcTestProvider::start()).unwrap();
    let (authorize, token, jwks) = (
        provider.authorization_url(),
        provider.token_url(),
        provider.jwks_url(),
    );
    let nova = Nova::start(&[
        ("OIDC_ISSUER", oidc::ISSUER),
        ("OIDC_PROVIDER", "local"),
        ("OIDC_AUTHORIZATION_URL", &authorize),
        ("OIDC_TOKEN_URL", &token),
        ("OIDC_JWKS_URL", &jwks),
        ("OIDC_CLIENT_ID", oidc::CLIENT_ID),
        ("OIDC_CLIENT_SECRET", oidc::CLIENT_SECRET),
        ("OAUTH_REDIRECT_URIS", REDIRECT),
    ]);
    let port = nova.port;
    // The attacker registers the victim's address first and never verifies it.
    let (status, body) = json_call(
        port,
        "/api/v1/auth/register",
        None,
        json!({ "email": "victim@example.com", "username": "squatter", "password": PASSWORD }),
    );
    assert_eq!(status, 201, "{body}");
    {
        let mut next = provider.next_identity();
        next.subject = "victim-at-provider".into();
        next.email = "victim@example.com".into();
        next.email_verified = true;
    }
    // The victim signs in with the provider: no tokens, a 409 telling them what to do.
    for _ in 0..2 {
        let (status, body) = provider_login(&rt, port);
        assert_eq!(status, 409, "{body}");
        assert!(body["access_token"].is_null(), "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("not verified") && message.contains("password"),
            "{body}"
        );
    }
    // A provider identity with an address no account has gets an account of its own:
    // the refusal above was the unverified link, not a broken provider setup.
    provider.next_identity().subject = "newcomer-at-provider".into();
    provider.next_identity().email = "newcomer@example.com".into();
    let (status, body) = provider_login(&rt, port);
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
}

#[test]
fn a_logout_closes_the_sessions_open_subscriptions() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let nova = Nova::start(&[]);
    let port = nova.port;
    let (status, body) = json_call(
        port,
        "/api/v1/auth/register",
        None,
        json!({ "email": "sub@example.com", "username": "sub", "password": PASSWORD }),
    );
    assert_eq!(status, 201, "{body}");
    let access = login(port, "sub")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut socket = rt.block_on(async {
        let mut request = format!("ws://127.0.0.1:{port}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let init = json!({
            "type": "connection_init",
            "payload": { "Authorization": format!("Bearer {access}") },
        });
        socket.send(Message::text(init.to_string())).await.unwrap();
        let ack = socket.next().await.unwrap().unwrap();
        assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack}");
        let subscribe = json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { homeFeedPosts { id } }" },
        });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .unwrap();
        socket
    });

    let (status, body) = json_call(port, "/api/v1/auth/logout", Some(&access), json!({}));
    assert!(status == 204 || status == 200, "{status} {body}");
    let code = rt.block_on(async {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("the connection closes within 10 s");
            match message {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => break None,
            }
        }
    });
    assert_eq!(code, Some(nova_gateway::CLOSE_SESSION_ENDED));
}
