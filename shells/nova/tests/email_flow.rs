//! Identity's emails over real SMTP: the `nova` binary is configured with the test SMTP
//! server (aiosmtpd, started by `cargo xtask test`), a user registers, and the
//! verification email arrives in the server's mailbox; the test parses it (headers,
//! multipart/alternative with plain and HTML parts, the link) and verifies the address
//! with the link's token. Then the same for a password reset.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests

use std::process::{Command, Stdio};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use nova_testkit::process::{Running, free_port, http, wait_for_http};
use serde_json::{Value, json};
use url::Url;

const WEB: &str = "https://nova.test/app";

fn post(port: u16, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let (status, text) = http(port, "POST", path, &auth, &body.to_string()).expect("nova answers");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn me(port: u16, token: &str) -> Value {
    let (status, text) = http(
        port,
        "GET",
        "/api/v1/auth/me",
        &format!("Authorization: Bearer {token}\r\n"),
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn login(port: u16, who: &str, password: &str) -> (u16, Value) {
    post(
        port,
        "/api/v1/auth/login",
        None,
        &json!({ "identifier": who, "password": password }),
    )
}

/// One received email, parsed: checks what every Nova email must have and returns the
/// token carried by the link to `page` (found in the plain part, the same link in HTML).
fn token_from(raw: &[u8], to: &str, subject: &str, page: &str) -> String {
    let message = MessageParser::default()
        .parse(raw)
        .expect("a parsable email");
    assert_eq!(message.subject(), Some(subject));
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!(from.address(), Some("no-reply@nova.test"));
    assert_eq!(from.name(), Some("Nova Test"));
    assert_eq!(
        message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address()),
        Some(to)
    );
    assert!(message.message_id().is_some(), "a Message-ID");
    assert!(message.date().is_some(), "a Date");
    let root = message.content_type().unwrap();
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!((message.text_body.len(), message.html_body.len()), (1, 1));
    let text = message.body_text(0).unwrap();
    let html = message.body_html(0).unwrap();
    assert_ne!(
        message.text_body[0], message.html_body[0],
        "separate plain and HTML parts"
    );
    let prefix = format!("{WEB}/{page}?token=");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    let link = Url::parse(line.trim()).unwrap();
    assert!(
        html.contains(&format!("href=\"{}\"", link.as_str())),
        "the HTML part links to {link}:\n{html}"
    );
    link.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_and_reset_emails_arrive_over_smtp_and_work() {
    let Some(smtp) = nova_testkit::smtp() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .env("SMTP_HOST", &smtp.host)
        .env("SMTP_PORT", smtp.port.to_string())
        .env("SMTP_TLS", "none")
        .env("SMTP_FROM", "Nova Test <no-reply@nova.test>")
        .env("NOVA_WEB_URL", WEB)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _nova = Running(child);
    tokio::task::spawn_blocking(move || wait_for_http(port, "/api/v1/ready", "nova"))
        .await
        .unwrap();

    // A recipient no other run has used: the mailbox folder is shared.
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let username = format!("mail_{}", &unique[unique.len() - 12..]);
    let email = format!("{username}@example.org");
    let password = "correct horse battery";
    let (status, account) = post(
        port,
        "/api/v1/auth/register",
        None,
        &json!({ "email": email, "username": username, "password": password }),
    );
    assert_eq!(status, 201, "{account}");

    let received = smtp.wait_for(&email, 1, Duration::from_secs(30)).await;
    let token = token_from(&received[0], &email, "Confirm your email", "verify-email");

    let (status, outcome) = login(port, &username, password);
    assert_eq!(status, 200, "{outcome}");
    let access = outcome["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(port, &access)["email_verified"], false);
    let (status, body) = post(
        port,
        "/api/v1/auth/verify-email",
        None,
        &json!({ "token": token }),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(me(port, &access)["email_verified"], true);
    // Single use.
    let (status, _) = post(
        port,
        "/api/v1/auth/verify-email",
        None,
        &json!({ "token": token }),
    );
    assert!((400..500).contains(&status), "{status}");

    // Password reset.
    let (status, body) = post(
        port,
        "/api/v1/auth/password/reset-request",
        None,
        &json!({ "email": email }),
    );
    assert_eq!(status, 202, "{body}");
    let received = smtp.wait_for(&email, 2, Duration::from_secs(30)).await;
    let reset = token_from(
        &received[1],
        &email,
        "Reset your password",
        "reset-password",
    );
    let new_password = "a brand new passphrase";
    let (status, body) = post(
        port,
        "/api/v1/auth/password/reset",
        None,
        &json!({ "token": reset, "new_password": new_password }),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(login(port, &username, password).0, 401);
    let (status, outcome) = login(port, &username, new_password);
    assert_eq!(
        (status, outcome["status"].as_str()),
        (200, Some("authenticated")),
        "{outcome}"
    );
}
