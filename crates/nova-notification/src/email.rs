//! The email channel: SMTP with `lettre` (STARTTLS, implicit TLS, or plain for a local
//! relay), multipart plain text + HTML, retried with exponential backoff and jitter.
//!
//! Configured by [`EMAIL_ENV_VARS`]; without `SMTP_HOST` there is no SMTP and callers
//! keep their logging default.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use nova_core::config::{ConfigError, ConfigSource, EnvVar};
use nova_core::{Error, Result};
use url::Url;

use crate::delivery::Backoff;

const fn var(
    name: &'static str,
    description: &'static str,
    default: Option<&'static str>,
) -> EnvVar {
    EnvVar {
        name,
        description,
        default,
    }
}

/// The variables the email channel reads (listed by `--help` and in `deploy/.env.example`).
pub const EMAIL_ENV_VARS: &[EnvVar] = &[
    var(
        "SMTP_HOST",
        "SMTP server that sends Nova's email (verification, password reset); unset: emails are only logged",
        None,
    ),
    var(
        "SMTP_PORT",
        "SMTP port; unset: 587 with starttls, 465 with tls, 25 with none",
        None,
    ),
    var(
        "SMTP_TLS",
        "starttls (required STARTTLS), tls (implicit TLS, SMTPS) or none (plain: a local relay only)",
        Some("starttls"),
    ),
    var("SMTP_USERNAME", "SMTP user (unset: no AUTH)", None),
    var("SMTP_PASSWORD", "SMTP password", None),
    var(
        "SMTP_FROM",
        "From address of Nova's email",
        Some("Nova <no-reply@localhost>"),
    ),
    var(
        "NOVA_WEB_URL",
        "public web address email links point to ({NOVA_WEB_URL}/verify-email?token=...)",
        Some("http://localhost:8000"),
    ),
];

/// How the SMTP connection is secured (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// No TLS: only for a relay on the same host or network.
    None,
}

impl SmtpTls {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(Self::StartTls),
            "tls" | "smtps" => Some(Self::Tls),
            "none" | "plain" => Some(Self::None),
            _ => None,
        }
    }

    /// The usual port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// SMTP settings read from the configuration.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT` (else the mode's usual port).
    pub port: u16,
    /// `SMTP_TLS`.
    pub tls: SmtpTls,
    /// `SMTP_USERNAME` and `SMTP_PASSWORD`.
    pub credentials: Option<(String, String)>,
    /// `SMTP_FROM`.
    pub from: Mailbox,
    /// How long one SMTP conversation may take.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// The settings, or `None` when `SMTP_HOST` is unset; a bad value is an error naming it.
    pub fn from_source(src: &ConfigSource) -> std::result::Result<Option<Self>, ConfigError> {
        let Some((host, _)) = src.raw("SMTP_HOST") else {
            return Ok(None);
        };
        let host = host.trim().to_owned();
        let tls = src
            .get_with("SMTP_TLS", "starttls, tls or none", SmtpTls::parse)?
            .unwrap_or(SmtpTls::StartTls);
        let port = src
            .get_with("SMTP_PORT", "a port number from 1 to 65535", |s| {
                s.trim().parse::<u16>().ok().filter(|p| *p > 0)
            })?
            .unwrap_or_else(|| tls.default_port());
        let from = src
            .get_with(
                "SMTP_FROM",
                "a mailbox such as `Nova <no-reply@example.com>`",
                |s| s.trim().parse::<Mailbox>().ok(),
            )?
            .unwrap_or_else(default_from);
        let username = src.raw("SMTP_USERNAME");
        let password = src.raw("SMTP_PASSWORD");
        let credentials = match (username, password) {
            (Some((u, _)), Some((p, _))) => Some((u.to_owned(), p.to_owned())),
            (Some((_, origin)), None) => {
                return Err(invalid(
                    "SMTP_PASSWORD",
                    origin,
                    "a password, since SMTP_USERNAME is set",
                ));
            }
            (None, Some((_, origin))) => {
                return Err(invalid(
                    "SMTP_USERNAME",
                    origin,
                    "a user, since SMTP_PASSWORD is set",
                ));
            }
            (None, None) => None,
        };
        Ok(Some(Self {
            host,
            port,
            tls,
            credentials,
            from,
            timeout: Duration::from_secs(30),
        }))
    }
}

fn default_from() -> Mailbox {
    Mailbox::new(
        Some("Nova".to_owned()),
        lettre::Address::new("no-reply", "localhost").unwrap_or_else(|_| unreachable_address()),
    )
}

#[allow(clippy::panic)] // a literal, checked by the tests
fn unreachable_address() -> lettre::Address {
    panic!("no-reply@localhost is a valid address")
}

fn invalid(var: &str, origin: nova_core::config::Origin, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        var: var.to_owned(),
        value: String::new(),
        origin,
        expected: expected.to_owned(),
    }
}

/// `NOVA_WEB_URL`: where links in email point.
pub fn web_url(src: &ConfigSource) -> std::result::Result<Url, ConfigError> {
    let url = src
        .get_with("NOVA_WEB_URL", "an http(s) URL", |s| {
            Url::parse(s.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        })?
        .unwrap_or_else(|| {
            Url::parse("http://localhost:8000").unwrap_or_else(|_| unreachable_url())
        });
    Ok(url)
}

#[allow(clippy::panic)] // a literal, checked by the tests
fn unreachable_url() -> Url {
    panic!("http://localhost:8000 is a valid URL")
}

/// One email: a plain-text and an HTML rendering of the same message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

impl Email {
    /// A message whose point is one link (verify your email, reset your password):
    /// `intro`, then the link as a button in HTML and on its own line in text.
    pub fn with_link(to: &str, subject: &str, intro: &str, action: &str, link: &Url) -> Self {
        let text = format!(
            "{intro}\n\n{action}:\n{link}\n\nIf you did not ask for this, ignore this email.\n"
        );
        let (intro_h, action_h, link_h, subject_h) = (
            escape(intro),
            escape(action),
            escape(link.as_str()),
            escape(subject),
        );
        let html = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{subject_h}</title></head>\
             <body><p>{intro_h}</p><p><a href=\"{link_h}\">{action_h}</a></p>\
             <p>If you did not ask for this, ignore this email.</p></body></html>\n"
        );
        Self {
            to: to.to_owned(),
            subject: subject.to_owned(),
            text,
            html,
        }
    }
}

/// HTML-escapes text and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Sends email over SMTP.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    backoff: Backoff,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `settings` (connections are opened when sending).
    pub fn new(settings: &SmtpSettings) -> Result<Self> {
        let builder = match settings.tls {
            SmtpTls::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &settings.host,
            )),
        }
        .map_err(|e| Error::invalid("SMTP_HOST", e.to_string()))?;
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: settings.from.clone(),
            backoff: Backoff::default(),
        })
    }

    /// Overrides the retry schedule.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The RFC 5322 message for `email`.
    pub fn message(&self, email: &Email) -> Result<Message> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| Error::invalid("to", format!("not an email address: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            // A generated Message-ID (some filters score mail without one as spam).
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| Error::internal(format!("building the email: {e}")))
    }

    /// Sends `email`, retrying transient failures (connection refused, 4xx answers) with
    /// exponential backoff and jitter; a permanent answer (5xx) or the last failure is
    /// the error, and the message is logged as dead-lettered.
    pub async fn send(&self, email: &Email) -> Result<()> {
        let message = self.message(email)?;
        let mut attempt = 0;
        loop {
            let started = std::time::Instant::now();
            match self.transport.send(message.clone()).await {
                Ok(_) => {
                    metrics::counter!("nova_notification_deliveries_total", "channel" => "email", "outcome" => "sent").increment(1);
                    metrics::histogram!("nova_notification_delivery_seconds", "channel" => "email")
                        .record(started.elapsed().as_secs_f64());
                    return Ok(());
                }
                Err(e) => {
                    attempt += 1;
                    let permanent = e.is_permanent();
                    match self.backoff.delay(attempt) {
                        Some(wait) if !permanent => {
                            metrics::counter!("nova_notification_deliveries_total", "channel" => "email", "outcome" => "retried").increment(1);
                            tracing::warn!(attempt, error = %e, ?wait, "sending email failed; retrying");
                            tokio::time::sleep(wait).await;
                        }
                        _ => {
                            metrics::counter!("nova_notification_deliveries_total", "channel" => "email", "outcome" => "dead").increment(1);
                            tracing::error!(attempt, permanent, error = %e, subject = %email.subject, "email dead-lettered");
                            return Err(Error::unavailable(e));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn src(pairs: &[(&str, &str)]) -> ConfigSource {
        ConfigSource::from_pairs(pairs.to_vec())
    }

    #[test]
    fn smtp_is_off_without_a_host() {
        assert!(SmtpSettings::from_source(&src(&[])).unwrap().is_none());
    }

    #[test]
    fn settings_default_by_tls_mode_and_name_bad_values() {
        let s = SmtpSettings::from_source(&src(&[("SMTP_HOST", "mail.example.org")]))
            .unwrap()
            .unwrap();
        assert_eq!((s.tls, s.port), (SmtpTls::StartTls, 587));
        assert_eq!(s.from.to_string(), "Nova <no-reply@localhost>");
        let s = SmtpSettings::from_source(&src(&[
            ("SMTP_HOST", "mail.example.org"),
            ("SMTP_TLS", "tls"),
            ("SMTP_FROM", "Team <team@example.org>"),
            ("SMTP_USERNAME", "u"),
            ("SMTP_PASSWORD", "p"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((s.tls, s.port), (SmtpTls::Tls, 465));
        assert_eq!(s.from.email.to_string(), "team@example.org");
        assert_eq!(s.credentials, Some(("u".into(), "p".into())));
        for (var, pairs) in [
            ("SMTP_TLS", vec![("SMTP_HOST", "h"), ("SMTP_TLS", "ssl3")]),
            ("SMTP_PORT", vec![("SMTP_HOST", "h"), ("SMTP_PORT", "0")]),
            (
                "SMTP_FROM",
                vec![("SMTP_HOST", "h"), ("SMTP_FROM", "nobody")],
            ),
            (
                "SMTP_PASSWORD",
                vec![("SMTP_HOST", "h"), ("SMTP_USERNAME", "u")],
            ),
        ] {
            let err = SmtpSettings::from_source(&src(&pairs)).unwrap_err();
            assert!(err.to_string().contains(var), "{var}: {err}");
        }
    }

    #[test]
    fn web_url_defaults_and_refuses_non_http() {
        assert_eq!(
            web_url(&src(&[])).unwrap().as_str(),
            "http://localhost:8000/"
        );
        assert!(web_url(&src(&[("NOVA_WEB_URL", "javascript:alert(1)")])).is_err());
    }

    #[test]
    fn link_emails_escape_html_and_carry_the_link_in_both_parts() {
        let link = Url::parse("https://nova.example/reset?token=a&b=<x>").unwrap();
        let email = Email::with_link("a@example.org", "Reset", "Hi <you>", "Reset it", &link);
        assert!(email.text.contains(link.as_str()));
        assert!(email.html.contains("Hi &lt;you&gt;"));
        assert!(
            email
                .html
                .contains("href=\"https://nova.example/reset?token=a&amp;b=%3Cx%3E\"")
        );
    }

    // The transport's connection pool lives on the tokio runtime.
    #[tokio::test]
    async fn messages_are_multipart_alternative() {
        let settings =
            SmtpSettings::from_source(&src(&[("SMTP_HOST", "localhost"), ("SMTP_TLS", "none")]))
                .unwrap()
                .unwrap();
        let mailer = SmtpMailer::new(&settings).unwrap();
        let link = Url::parse("https://nova.example/v?token=t").unwrap();
        let email = Email::with_link("a@example.org", "Confirm", "Hello", "Confirm", &link);
        let raw = String::from_utf8(mailer.message(&email).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("Message-ID: <"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(
            mailer
                .message(&Email {
                    to: "not an address".into(),
                    ..email
                })
                .unwrap_err()
                .to_string()
                .contains("to")
        );
    }
}
