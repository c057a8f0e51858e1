//! Outgoing email, as a port: SMTP belongs to the notification domain; identity only
//! needs "send this link to this address".

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nova_core::Result;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient.
    pub to: String,
    /// What it is (`verify_email`, `password_reset`).
    pub kind: &'static str,
    /// Subject line.
    pub subject: String,
    /// The single-use token the link carries.
    pub token: String,
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail` (best effort: callers log failures; users can ask again).
    async fn send(&self, mail: Mail) -> Result<()>;
}

/// Logs the message instead of sending it (embedded default for development).
#[derive(Debug, Default, Clone)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        // The token is a credential: log where it went, never the token itself.
        tracing::info!(to = %mail.to, kind = mail.kind, "email queued (no mail transport configured)");
        Ok(())
    }
}

/// Keeps messages in memory (tests and embedding apps read them back).
#[derive(Debug, Default, Clone)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<Mail>>>,
}

impl MemoryMailer {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// The token of the last message of `kind` to `to`.
    pub fn last_token(&self, to: &str, kind: &str) -> Option<String> {
        self.sent()
            .into_iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(to) && m.kind == kind)
            .map(|m| m.token)
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(mail);
        }
        Ok(())
    }
}
