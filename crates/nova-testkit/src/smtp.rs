//! The test SMTP server (`cargo xtask test` starts aiosmtpd on 127.0.0.1:2525): where it
//! listens and the folder it writes each received message to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::backend_url;

/// Environment variable naming the test SMTP server (`smtp://host:port`, plain SMTP).
pub const SMTP_URL_VAR: &str = "NOVA_TEST_SMTP_URL";
/// Environment variable naming the folder that server writes each message to (one
/// `.eml` file per message, headed by `X-Envelope-To:` lines).
pub const SMTP_MAILBOX_VAR: &str = "NOVA_TEST_SMTP_MAILBOX";

/// The test SMTP server.
#[derive(Debug, Clone)]
pub struct TestSmtp {
    /// Host to connect to.
    pub host: String,
    /// Port to connect to.
    pub port: u16,
    /// Where received messages land.
    pub mailbox: PathBuf,
}

/// The server: `None` (skip) outside CI when unset, a panic naming the variable under
/// `CI=true` (also when it does not answer).
#[allow(clippy::panic)] // a test helper: a missing server is a failed test under CI
pub fn smtp() -> Option<TestSmtp> {
    let url = backend_url(SMTP_URL_VAR)?;
    let mailbox = PathBuf::from(backend_url(SMTP_MAILBOX_VAR)?);
    let rest = url
        .strip_prefix("smtp://")
        .unwrap_or_else(|| panic!("{SMTP_URL_VAR}={url}: expected smtp://host:port"));
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .unwrap_or_else(|| panic!("{SMTP_URL_VAR}={url}: expected smtp://host:port"));
    if std::net::TcpStream::connect((host.as_str(), port)).is_err() {
        if crate::in_ci() {
            panic!("{SMTP_URL_VAR}={url} does not answer (run the tests with `cargo xtask test`)");
        }
        eprintln!("skipping: nothing answers at {SMTP_URL_VAR}={url}");
        return None;
    }
    assert!(
        mailbox.is_dir(),
        "{SMTP_MAILBOX_VAR}={} is not a folder",
        mailbox.display()
    );
    Some(TestSmtp {
        host,
        port,
        mailbox,
    })
}

impl TestSmtp {
    /// Every message received so far for `to` (the envelope recipient), oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Vec<u8>> {
        let header = format!("X-Envelope-To: {to}\r\n").to_ascii_lowercase();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.mailbox)
            .map(|dir| {
                dir.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|raw| {
                let head_end = raw
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .unwrap_or(raw.len());
                String::from_utf8_lossy(&raw[..head_end])
                    .to_ascii_lowercase()
                    .contains(&header)
            })
            .collect()
    }

    /// Waits up to `timeout` until `count` messages for `to` arrived; returns them all.
    #[allow(clippy::panic)] // a test helper: a missing email is a failed test
    pub async fn wait_for(&self, to: &str, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.messages_to(to);
            if found.len() >= count {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} of {count} emails to {to} arrived in {} within {timeout:?}",
                    found.len(),
                    self.mailbox.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
