//! A rate limiter that degrades to a per-process limiter when its primary fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nova_core::{ErrorKind, Result};

use crate::rate_limit::{Decision, Quota, RateLimiter};

/// How long the primary is bypassed after it failed, by default.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);

/// At most one "primary is down" warning per this interval.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Wraps a shared limiter (Redis) and a per-process one: when the primary fails, checks go
/// to the fallback, so limits still apply — per process rather than cluster-wide — and
/// requests are never let through unlimited, nor failed because Redis is down.
///
/// After a failure the primary is skipped for a cooldown (a simple circuit breaker), so an
/// outage does not add a connection timeout to every request. Failures are logged as
/// warnings, at most once a minute. Invalid arguments (a zero quota, a cost above the
/// limit) are the caller's bug and are returned as errors, not retried on the fallback.
pub struct FallbackRateLimiter {
    primary: Arc<dyn RateLimiter>,
    fallback: Arc<dyn RateLimiter>,
    cooldown: Duration,
    breaker: Mutex<Breaker>,
}

#[derive(Default)]
struct Breaker {
    /// The primary is bypassed until then.
    open_until: Option<Instant>,
    /// When the last warning was logged.
    warned_at: Option<Instant>,
    /// Failures since the last warning.
    unreported: u64,
}

impl FallbackRateLimiter {
    /// `primary` while it answers, `fallback` (for `DEFAULT_COOLDOWN` after each failure) when not.
    pub fn new(primary: Arc<dyn RateLimiter>, fallback: Arc<dyn RateLimiter>) -> Self {
        Self {
            primary,
            fallback,
            cooldown: DEFAULT_COOLDOWN,
            breaker: Mutex::new(Breaker::default()),
        }
    }

    /// Changes how long the primary is bypassed after a failure.
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Whether the primary is currently bypassed.
    pub fn is_degraded(&self) -> bool {
        let breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        breaker.open_until.is_some_and(|t| Instant::now() < t)
    }

    fn record_failure(&self, err: &nova_core::Error) {
        let now = Instant::now();
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        breaker.open_until = Some(now + self.cooldown);
        breaker.unreported += 1;
        if breaker
            .warned_at
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY)
        {
            tracing::warn!(
                error = ?err,
                failures = breaker.unreported,
                cooldown_ms = self.cooldown.as_millis() as u64,
                "shared rate limiter unavailable; enforcing limits per process"
            );
            breaker.warned_at = Some(now);
            breaker.unreported = 0;
        }
    }

    fn record_success(&self) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        if breaker.open_until.take().is_some() {
            tracing::info!("shared rate limiter is answering again");
        }
    }
}

impl std::fmt::Debug for FallbackRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackRateLimiter")
            .field("cooldown", &self.cooldown)
            .field("degraded", &self.is_degraded())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RateLimiter for FallbackRateLimiter {
    async fn check_n(&self, key: &str, quota: &Quota, cost: u32) -> Result<Decision> {
        if !self.is_degraded() {
            match self.primary.check_n(key, quota, cost).await {
                Ok(decision) => {
                    self.record_success();
                    return Ok(decision);
                }
                Err(err) if matches!(err.kind(), ErrorKind::InvalidArgument { .. }) => {
                    return Err(err);
                }
                Err(err) => self.record_failure(&err),
            }
        }
        self.fallback.check_n(key, quota, cost).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use nova_core::{Error, ManualClock};

    use super::*;
    use crate::InProcessRateLimiter;

    /// A primary that always fails, counting its calls.
    #[derive(Default)]
    struct Down(AtomicU32);

    #[async_trait]
    impl RateLimiter for Down {
        async fn check_n(&self, _: &str, _: &Quota, _: u32) -> Result<Decision> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(Error::unavailable("connection refused"))
        }
    }

    #[tokio::test]
    async fn limits_still_apply_and_the_primary_is_bypassed() {
        let down = Arc::new(Down::default());
        let clock = ManualClock::at_epoch_seconds(1_700_000_000);
        let local = Arc::new(InProcessRateLimiter::new(clock.shared()));
        let limiter = FallbackRateLimiter::new(down.clone(), local);
        let quota = Quota::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check("k", &quota).await.unwrap().allowed);
        }
        let denied = limiter.check("k", &quota).await.unwrap();
        assert!(!denied.allowed);
        assert!(denied.retry_after > Duration::ZERO);
        assert!(limiter.is_degraded());
        assert_eq!(
            down.0.load(Ordering::SeqCst),
            1,
            "primary tried once, then bypassed"
        );
    }

    #[tokio::test]
    async fn invalid_arguments_are_not_masked() {
        let local = Arc::new(InProcessRateLimiter::default());
        let limiter = FallbackRateLimiter::new(local.clone(), local);
        let err = limiter
            .check_n("k", &Quota::per_minute(3), 4)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("cost"));
        assert!(!limiter.is_degraded());
    }
}
