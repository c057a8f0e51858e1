//! Brute-force protection: failed attempts are counted per client address and per
//! account (through nova-kv, so replicas share counts when Redis is configured), and a
//! spent budget answers `RateLimited` before any password work is done.

use std::time::Duration;

use nova_core::{Error, ErrorKind, Result};
use nova_kv::{Quota, RateLimiter};

/// The budgets. Defaults follow the issue: 25 failures per 5 minutes per address, at
/// most 100 per account per hour; registrations and reset emails are budgeted too.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failed logins per client address.
    pub failures_per_ip: Quota,
    /// Failed logins per account (whatever the address).
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

/// Whether every bucket still has budget (cost 0: looks without spending).
pub(crate) async fn has_budget(
    limiter: &dyn RateLimiter,
    buckets: &[(&str, &Quota)],
) -> Result<bool> {
    for (key, quota) in buckets {
        // Cost 0 reports without spending; no whole cell left means the budget is gone.
        if limiter.check_n(key, quota, 0).await?.remaining == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Spends one unit of every bucket (a failure happened).
pub(crate) async fn spend(limiter: &dyn RateLimiter, buckets: &[(&str, &Quota)]) -> Result<()> {
    for (key, quota) in buckets {
        limiter.check(key, quota).await?;
    }
    Ok(())
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
