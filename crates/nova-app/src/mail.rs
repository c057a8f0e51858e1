//! Identity's [`Mailer`] port on the notification domain's email channel: SMTP when
//! `SMTP_HOST` is set, the log otherwise.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::config::ConfigSource;
use nova_core::{Error, Result};
use nova_identity::{LogMailer, Mail, Mailer};
use nova_notification::email::{self, Email, SmtpMailer, SmtpSettings};
use url::Url;

/// Identity's emails rendered as link emails and sent over SMTP, off the request path
/// (the SMTP conversation and its retries run in their own task).
struct SmtpIdentityMailer {
    smtp: Arc<SmtpMailer>,
    web: Url,
}

/// The mailer identity uses in this process.
pub(crate) fn identity_mailer(src: &ConfigSource) -> Result<Arc<dyn Mailer>> {
    let config = |e: nova_core::config::ConfigError| Error::invalid("SMTP", e.to_string());
    let Some(settings) = SmtpSettings::from_source(src).map_err(config)? else {
        return Ok(Arc::new(LogMailer));
    };
    let web = email::web_url(src).map_err(config)?;
    tracing::info!(host = %settings.host, port = settings.port, tls = ?settings.tls, "email over SMTP");
    Ok(Arc::new(SmtpIdentityMailer {
        smtp: Arc::new(SmtpMailer::new(&settings)?),
        web,
    }))
}

/// The link, the first sentence and the button of each kind of identity email.
fn render(mail: &Mail, web: &Url) -> Result<Email> {
    let (page, intro, action) = match mail.kind {
        "verify_email" => (
            "verify-email",
            "Please confirm that this is your email address for Nova.",
            "Confirm your email",
        ),
        "password_reset" => (
            "reset-password",
            "Someone (hopefully you) asked to reset your Nova password.",
            "Choose a new password",
        ),
        "account_exists" => (
            "reset-password",
            "Someone tried to sign up for Nova with this address, which already has an account. If it was you and you forgot your password, you can reset it.",
            "Reset your password",
        ),
        other => {
            return Err(Error::internal(format!("no email template for {other}")));
        }
    };
    let mut link = web.clone();
    link.path_segments_mut()
        .map_err(|()| Error::invalid("NOVA_WEB_URL", "cannot hold a path"))?
        .pop_if_empty()
        .push(page);
    link.query_pairs_mut().append_pair("token", &mail.token);
    Ok(Email::with_link(
        &mail.to,
        &mail.subject,
        intro,
        action,
        &link,
    ))
}

#[async_trait]
impl Mailer for SmtpIdentityMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        let email = render(&mail, &self.web)?;
        let smtp = self.smtp.clone();
        let kind = mail.kind;
        tokio::spawn(async move {
            // Failures are counted and logged (dead letter) by the channel itself.
            if smtp.send(&email).await.is_ok() {
                tracing::debug!(kind, "email sent");
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn mail(kind: &'static str) -> Mail {
        Mail {
            to: "ada@example.org".into(),
            kind,
            subject: "Subject".into(),
            token: "t0k/en+".into(),
        }
    }

    #[test]
    fn links_point_at_the_web_app_with_the_token_encoded() {
        let web = Url::parse("https://nova.example/app").unwrap();
        let email = render(&mail("verify_email"), &web).unwrap();
        assert!(
            email
                .text
                .contains("https://nova.example/app/verify-email?token=t0k%2Fen%2B"),
            "{}",
            email.text
        );
        let reset = render(
            &mail("password_reset"),
            &Url::parse("http://localhost:8000").unwrap(),
        )
        .unwrap();
        assert!(
            reset
                .text
                .contains("http://localhost:8000/reset-password?token=")
        );
        assert!(render(&mail("account_exists"), &web).is_ok());
        assert!(render(&mail("unknown"), &web).is_err());
    }

    #[test]
    fn without_smtp_host_identity_logs() {
        assert!(identity_mailer(&ConfigSource::from_pairs(Vec::<(String, String)>::new())).is_ok());
        let bad = ConfigSource::from_pairs(vec![("SMTP_HOST", "h"), ("SMTP_TLS", "bogus")]);
        assert!(identity_mailer(&bad).is_err());
    }
}
