//! Brute-force protection: login attempts are counted per client address and per
//! account id (through nova-kv, so replicas share counts when Redis is configured). Each
//! attempt takes its cell atomically (GCRA) before any password work, so concurrent
//! guesses cannot all pass a check made before the budget is spent; a spent budget
//! answers `RateLimited`.

use std::time::Duration;

use nova_core::{Error, ErrorKind, Result};
use nova_kv::{Quota, RateLimiter};

/// The budgets. Defaults follow the issue: 25 failures per 5 minutes per address, at
/// most 100 per account per hour; registrations and reset emails are budgeted too.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Login attempts per client address.
    pub failures_per_ip: Quota,
    /// Login attempts per account id (whatever the address or how the name was typed);
    /// a device with a recent session of the account, or a login bringing its second
    /// factor, is not held back by it.
    pub failures_per_account: Quota,
    /// Registrations per client address.
    pub registrations_per_ip: Quota,
    /// Password reset emails per address and per email.
    pub resets: Quota,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            failures_per_ip: Quota::new(25, Duration::from_secs(300)),
            failures_per_account: Quota::new(100, Duration::from_secs(3600)),
            registrations_per_ip: Quota::new(20, Duration::from_secs(3600)),
            resets: Quota::new(5, Duration::from_secs(3600)),
        }
    }
}

pub(crate) fn rate_limited() -> Error {
    Error::new(ErrorKind::RateLimited, "too many attempts, try again later")
}

/// Spends one unit of a bucket and fails when none was left (for actions counted on
/// every attempt, like registration).
pub(crate) async fn take(limiter: &dyn RateLimiter, key: &str, quota: &Quota) -> Result<()> {
    if limiter.check(key, quota).await?.allowed {
        Ok(())
    } else {
        Err(rate_limited())
    }
}
