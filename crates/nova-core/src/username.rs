//! The username rule, shared by identity (registration) and users (renaming): the one
//! place that says what a valid username is.

use crate::{Error, Result};

/// Username length bounds, in characters.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=30;

/// Names nobody may register: they would impersonate the service or break URLs.
const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "system",
    "support",
    "help",
    "nova",
    "api",
    "www",
    "mail",
    "moderator",
    "mod",
    "staff",
    "security",
    "official",
    "null",
    "undefined",
    "anonymous",
    "me",
    "settings",
    "login",
    "logout",
    "register",
    "signup",
    "auth",
    "oauth",
    "graphql",
    "explore",
    "search",
    "notifications",
    "home",
    "about",
    "terms",
    "privacy",
];

/// Checks a username: 3–30 characters of `a-z A-Z 0-9 _`, starting with a letter, not
/// reserved.
pub fn username(raw: &str) -> Result<String> {
    let name = raw.trim();
    let len = name.chars().count();
    if !USERNAME_LEN.contains(&len) {
        return Err(Error::invalid("username", "must be 3 to 30 characters"));
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Err(Error::invalid("username", "must start with a letter"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::invalid(
            "username",
            "may only contain letters, digits and _",
        ));
    }
    if RESERVED_USERNAMES.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(Error::invalid("username", "is reserved"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username("Alice_99").unwrap(), "Alice_99");
        for bad in [
            "al",
            "9lives",
            "a-b",
            "ädam",
            "Admin",
            "x".repeat(31).as_str(),
        ] {
            assert_eq!(
                username(bad).unwrap_err().field(),
                Some("username"),
                "{bad}"
            );
        }
    }
}
