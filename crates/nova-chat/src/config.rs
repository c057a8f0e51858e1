//! The variables nova-chat reads ([`CHAT_ENV_VARS`]) and the call settings from them;
//! and TURN credentials per coturn's REST API (`use-auth-secret`): `username =
//! "<expiry unix seconds>:<user id>"`, `credential = base64(HMAC-SHA1(secret,
//! username))`.

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use hmac::{Hmac, Mac};
use nova_core::config::{ConfigError, ConfigSource, EnvVar};
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_kv::Quota;
use sha1::Sha1;

use crate::model::TurnCredentials;

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

/// Every variable the chat domain reads (listed by `--help` and in `deploy/.env.example`).
pub const CHAT_ENV_VARS: &[EnvVar] = &[
    var(
        "TURN_URLS",
        "TURN (and STUN) URLs handed to callers with their credentials, comma-separated (turn:, turns:, stun:)",
        None,
    ),
    var(
        "TURN_SHARED_SECRET",
        "coturn's static-auth-secret: TURN credentials are HMAC-SHA1 of it; unset: no TURN credentials (503)",
        None,
    ),
    var(
        "TURN_CREDENTIAL_TTL_SECS",
        "how long minted TURN credentials stay valid, in seconds (60 to 172800)",
        Some("3600"),
    ),
    var(
        "CHAT_CALL_RING_TIMEOUT_SECS",
        "a call nobody accepts within this many seconds ends as missed (5 to 300)",
        Some("45"),
    ),
    var(
        "CHAT_CALL_MAX_PARTICIPANTS",
        "most people in one call at once (2 to 50)",
        Some("8"),
    ),
];

/// Calls and location sharing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// A call nobody accepted by then ends as missed (`CHAT_CALL_RING_TIMEOUT_SECS`).
    pub ring_timeout: Duration,
    /// Most people joined at once (`CHAT_CALL_MAX_PARTICIPANTS`).
    pub max_participants: usize,
    /// `TURN_SHARED_SECRET` (`None`: no TURN credentials are minted).
    pub turn_secret: Option<String>,
    /// `TURN_URLS`.
    pub turn_urls: Vec<String>,
    /// `TURN_CREDENTIAL_TTL_SECS`.
    pub turn_ttl: StdDuration,
    /// Location updates per share (1 per 5 s).
    pub location_updates: Quota,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::seconds(45),
            max_participants: 8,
            turn_secret: None,
            turn_urls: Vec::new(),
            turn_ttl: StdDuration::from_secs(3600),
            location_updates: Quota::new(1, StdDuration::from_secs(5)),
        }
    }
}

impl CallSettings {
    /// Reads the variables; a bad value is an error naming it.
    pub fn from_source(src: &ConfigSource) -> std::result::Result<Self, ConfigError> {
        let defaults = Self::default();
        let urls = src
            .get_with(
                "TURN_URLS",
                "comma-separated turn:, turns: or stun: URLs",
                |s| {
                    let urls: Vec<String> = s
                        .split(',')
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned)
                        .collect();
                    urls.iter()
                        .all(|u| {
                            ["turn:", "turns:", "stun:"]
                                .iter()
                                .any(|p| u.starts_with(p) && u.len() > p.len())
                        })
                        .then_some(urls)
                },
            )?
            .unwrap_or_default();
        let secret = src
            .raw("TURN_SHARED_SECRET")
            .map(|(v, _)| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let ttl = src
            .get_with(
                "TURN_CREDENTIAL_TTL_SECS",
                "a number of seconds from 60 to 172800",
                |s| s.parse::<u64>().ok().filter(|n| (60..=172_800).contains(n)),
            )?
            .map_or(defaults.turn_ttl, StdDuration::from_secs);
        let ring = src
            .get_with(
                "CHAT_CALL_RING_TIMEOUT_SECS",
                "a number of seconds from 5 to 300",
                |s| s.parse::<i64>().ok().filter(|n| (5..=300).contains(n)),
            )?
            .map_or(defaults.ring_timeout, Duration::seconds);
        let max = src
            .get_with("CHAT_CALL_MAX_PARTICIPANTS", "a number from 2 to 50", |s| {
                s.parse::<usize>().ok().filter(|n| (2..=50).contains(n))
            })?
            .unwrap_or(defaults.max_participants);
        Ok(Self {
            ring_timeout: ring,
            max_participants: max,
            turn_secret: secret,
            turn_urls: urls,
            turn_ttl: ttl,
            ..defaults
        })
    }

    /// TURN credentials for `user`, valid from `now` for the TTL.
    pub fn turn_credentials(&self, user: UserId, now: Timestamp) -> Result<TurnCredentials> {
        let Some(secret) = &self.turn_secret else {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "TURN is not configured on this server",
            ));
        };
        let ttl = self.turn_ttl.as_secs();
        let expiry = now.timestamp() + i64::try_from(ttl).unwrap_or(i64::MAX / 2);
        let username = format!("{expiry}:{user}");
        let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes())
            .map_err(|_| Error::internal("TURN secret unusable"))?;
        mac.update(username.as_bytes());
        let credential = STANDARD.encode(mac.finalize().into_bytes());
        Ok(TurnCredentials {
            username,
            credential,
            ttl_secs: ttl,
            urls: self.turn_urls.clone(),
            expires_at: chrono::DateTime::from_timestamp(expiry, 0).unwrap_or(now),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_and_bad_values_name_the_variable() {
        let none = CallSettings::from_source(&ConfigSource::from_pairs::<&str, &str>([]));
        assert_eq!(none.unwrap(), CallSettings::default());
        let set = CallSettings::from_source(&ConfigSource::from_pairs([
            (
                "TURN_URLS",
                "turn:turn.example.com:3478, turns:turn.example.com:5349",
            ),
            ("TURN_SHARED_SECRET", "s3cret"),
            ("TURN_CREDENTIAL_TTL_SECS", "600"),
            ("CHAT_CALL_RING_TIMEOUT_SECS", "30"),
            ("CHAT_CALL_MAX_PARTICIPANTS", "4"),
        ]))
        .unwrap();
        assert_eq!(set.turn_urls.len(), 2);
        assert_eq!(set.ring_timeout, Duration::seconds(30));
        assert_eq!(set.max_participants, 4);
        assert_eq!(set.turn_ttl, StdDuration::from_secs(600));
        for (name, value) in [
            ("TURN_URLS", "http://turn.example.com"),
            ("TURN_CREDENTIAL_TTL_SECS", "5"),
            ("CHAT_CALL_RING_TIMEOUT_SECS", "forever"),
            ("CHAT_CALL_MAX_PARTICIPANTS", "1"),
        ] {
            let err = CallSettings::from_source(&ConfigSource::from_pairs([(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
