//! Input rules for identity requests: every failure is `InvalidArgument` naming the field.

use nova_core::{Error, Result};

pub use nova_core::username::{USERNAME_LEN, username};

/// Longest email accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Normalizes and checks an email address; returns the trimmed address.
pub fn email(raw: &str) -> Result<String> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(Error::invalid("email", "is required"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(Error::invalid(
            "email",
            format!("must be at most {MAX_EMAIL_LEN} characters"),
        ));
    }
    let valid = match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.')
                && !domain.contains("..")
                && domain
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !valid {
        return Err(Error::invalid("email", "is not a valid email address"));
    }
    Ok(email.to_owned())
}

/// A required, bounded string field.
pub fn required(field: &str, value: &str, max_chars: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Alice@Example.com ").unwrap(), "Alice@Example.com");
        for bad in [
            "",
            "alice",
            "@x.com",
            "a@",
            "a@x",
            "a b@x.com",
            "a@x..com",
            "a@.x.com",
        ] {
            assert_eq!(email(bad).unwrap_err().field(), Some("email"), "{bad}");
        }
        assert!(email(&format!("{}@x.com", "a".repeat(300))).is_err());
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in ".{0,400}") {
            let _ = email(&s);
            let _ = username(&s);
            let _ = required("f", &s, 10);
        }
    }
}
