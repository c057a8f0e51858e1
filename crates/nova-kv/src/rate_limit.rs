//! The rate-limiter port and its in-process implementation.
//!
//! Both backends run the same GCRA (generic cell rate algorithm): each key stores one
//! number, its TAT (theoretical arrival time). A quota of `limit` per `period` emits one
//! cell every `T = period / limit` (rounded up to a whole microsecond, so the long-run
//! rate never exceeds the quota) and tolerates a burst of `limit` cells. A request for
//! `cost` cells is allowed when `max(tat, now) + cost·T - now <= limit·T`; if allowed, the
//! TAT moves forward by `cost·T`. Time is counted in whole microseconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use nova_core::{Error, Result, SharedClock, SystemClock};

/// How many requests a key may make per period, e.g. 25 per 5 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Requests allowed per `period`; also the largest burst.
    pub limit: u32,
    /// The window the limit applies to.
    pub period: Duration,
}

impl Quota {
    /// `limit` requests per `period`.
    pub const fn new(limit: u32, period: Duration) -> Self {
        Self { limit, period }
    }

    /// `limit` requests per second.
    pub const fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` requests per minute.
    pub const fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` requests per hour.
    pub const fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// The GCRA parameters in microseconds: (emission interval `T`, burst window `limit·T`).
    ///
    /// Fails with `InvalidArgument` when the limit or the period is zero.
    pub(crate) fn gcra_micros(&self) -> Result<(i64, i64)> {
        if self.limit == 0 {
            return Err(Error::invalid("quota.limit", "must be at least 1"));
        }
        let period = i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX / 4);
        if period == 0 {
            return Err(Error::invalid("quota.period", "must be at least 1 µs"));
        }
        let limit = i64::from(self.limit);
        let interval = (period + limit - 1) / limit;
        Ok((interval, interval.saturating_mul(limit)))
    }
}

/// The answer to one rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed (its cells were counted if so).
    pub allowed: bool,
    /// How many more single-cell requests would be allowed right now.
    pub remaining: u32,
    /// When denied: how long until this request would be allowed. Zero when allowed.
    pub retry_after: Duration,
    /// How long until the key is back to a full burst (nothing counted against it).
    pub reset_after: Duration,
}

/// A rate limiter keyed by name (a user id, an IP, `"login:" + email`, ...).
///
/// Implementations share the GCRA semantics described in the [module docs](self), so a
/// quota means the same thing whichever backend enforces it.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts `cost` cells against `key` if the quota allows all of them, or none.
    ///
    /// `cost == 0` only reports the current state. A `cost` above `quota.limit` could never
    /// be allowed and is an `InvalidArgument` error, as is a zero limit or period.
    async fn check_n(&self, key: &str, quota: &Quota, cost: u32) -> Result<Decision>;

    /// Counts one request against `key`.
    async fn check(&self, key: &str, quota: &Quota) -> Result<Decision> {
        self.check_n(key, quota, 1).await
    }
}

/// Validates a check's arguments and returns `(T, burst window, cost)` in microseconds/cells.
pub(crate) fn validate(quota: &Quota, cost: u32) -> Result<(i64, i64, i64)> {
    let (interval, window) = quota.gcra_micros()?;
    if cost > quota.limit {
        return Err(Error::invalid("cost", "exceeds the quota's limit"));
    }
    Ok((interval, window, i64::from(cost)))
}

/// One GCRA step: given the stored TAT (if any) and `now`, returns the decision and the
/// TAT to store (`None` when nothing changes).
pub(crate) fn gcra(
    stored_tat: Option<i64>,
    now: i64,
    interval: i64,
    window: i64,
    cost: i64,
) -> (Decision, Option<i64>) {
    let tat = stored_tat.map_or(now, |t| t.max(now));
    let new_tat = tat.saturating_add(cost.saturating_mul(interval));
    let remaining_at = |t: i64| {
        let free = window - (t - now);
        u32::try_from((free / interval).max(0)).unwrap_or(u32::MAX)
    };
    if new_tat - now > window {
        let decision = Decision {
            allowed: false,
            remaining: remaining_at(tat),
            retry_after: micros(new_tat - now - window),
            reset_after: micros(tat - now),
        };
        return (decision, None);
    }
    let decision = Decision {
        allowed: true,
        remaining: remaining_at(new_tat),
        retry_after: Duration::ZERO,
        reset_after: micros(new_tat - now),
    };
    (decision, (cost > 0).then_some(new_tat))
}

/// A non-negative microsecond count as a `Duration`.
pub(crate) fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// Entries are swept (TATs in the past dropped) whenever the map doubles past this size.
const SWEEP_FLOOR: usize = 1024;

/// GCRA over a mutex'd map in this process, timed by an injected clock.
///
/// Used alone by the embedded `nova` shell and as the fallback when Redis is down
/// ([`FallbackRateLimiter`](crate::FallbackRateLimiter)). Keys whose TAT has passed carry
/// no information and are swept periodically, so memory follows the active keys.
pub struct InProcessRateLimiter {
    clock: SharedClock,
    state: Mutex<State>,
}

struct State {
    tats: HashMap<String, i64>,
    sweep_at: usize,
}

impl InProcessRateLimiter {
    /// A limiter timed by `clock` (a `ManualClock` in tests).
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            state: Mutex::new(State {
                tats: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            }),
        }
    }

    /// The synchronous core of [`RateLimiter::check_n`].
    pub fn check_now(&self, key: &str, quota: &Quota, cost: u32) -> Result<Decision> {
        let (interval, window, cost) = validate(quota, cost)?;
        let now = self.clock.now().timestamp_micros();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (decision, new_tat) = gcra(state.tats.get(key).copied(), now, interval, window, cost);
        if let Some(tat) = new_tat {
            state.tats.insert(key.to_owned(), tat);
            if state.tats.len() >= state.sweep_at {
                state.tats.retain(|_, tat| *tat > now);
                state.sweep_at = (state.tats.len() * 2).max(SWEEP_FLOOR);
            }
        }
        Ok(decision)
    }
}

impl Default for InProcessRateLimiter {
    /// A limiter on the system clock.
    fn default() -> Self {
        Self::new(SystemClock::shared())
    }
}

impl std::fmt::Debug for InProcessRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessRateLimiter")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RateLimiter for InProcessRateLimiter {
    async fn check_n(&self, key: &str, quota: &Quota, cost: u32) -> Result<Decision> {
        self.check_now(key, quota, cost)
    }
}

#[cfg(test)]
mod tests {
    use nova_core::{ErrorKind, ManualClock};
    use proptest::prelude::*;

    use super::*;

    fn limiter() -> (ManualClock, InProcessRateLimiter) {
        let clock = ManualClock::at_epoch_seconds(1_700_000_000);
        let limiter = InProcessRateLimiter::new(clock.shared());
        (clock, limiter)
    }

    #[test]
    fn burst_then_steady_rate() {
        let (clock, rl) = limiter();
        let quota = Quota::new(25, Duration::from_secs(300));
        for i in 0..25 {
            let d = rl.check_now("k", &quota, 1).unwrap();
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 24 - i);
        }
        let denied = rl.check_now("k", &quota, 1).unwrap();
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after, Duration::from_secs(12));
        assert_eq!(denied.reset_after, Duration::from_secs(300));
        clock.advance(chrono::Duration::seconds(12));
        assert!(rl.check_now("k", &quota, 1).unwrap().allowed);
        assert!(!rl.check_now("k", &quota, 1).unwrap().allowed);
    }

    #[test]
    fn cost_counts_cells_and_zero_cost_peeks() {
        let (_clock, rl) = limiter();
        let quota = Quota::per_hour(100);
        assert_eq!(rl.check_now("k", &quota, 0).unwrap().remaining, 100);
        assert_eq!(rl.check_now("k", &quota, 60).unwrap().remaining, 40);
        assert!(!rl.check_now("k", &quota, 41).unwrap().allowed);
        assert_eq!(rl.check_now("k", &quota, 0).unwrap().remaining, 40);
        assert!(rl.check_now("k", &quota, 40).unwrap().allowed);
    }

    #[test]
    fn bad_arguments_are_invalid() {
        let (_clock, rl) = limiter();
        let err = rl.check_now("k", &Quota::per_second(0), 1).unwrap_err();
        assert_eq!(err.field(), Some("quota.limit"));
        let err = rl.check_now("k", &Quota::per_second(3), 4).unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::InvalidArgument {
                field: "cost".into()
            }
        );
        let zero_period = Quota::new(3, Duration::ZERO);
        assert_eq!(
            rl.check_now("k", &zero_period, 1).unwrap_err().field(),
            Some("quota.period")
        );
    }

    #[test]
    fn idle_keys_are_swept() {
        let (clock, rl) = limiter();
        let quota = Quota::per_second(1);
        for i in 0..SWEEP_FLOOR - 1 {
            rl.check_now(&format!("k{i}"), &quota, 1).unwrap();
        }
        clock.advance(chrono::Duration::seconds(2));
        rl.check_now("last", &quota, 1).unwrap();
        let state = rl.state.lock().unwrap();
        assert_eq!(state.tats.len(), 1);
    }

    proptest! {
        /// In any sequence of requests, the allowed ones between the first and the last
        /// allowed request never exceed `limit + elapsed/period · limit`.
        #[test]
        fn never_exceeds_the_quota(
            limit in 1u32..20,
            period_ms in 1u64..10_000,
            steps in prop::collection::vec((0u64..3_000, 1u32..4), 1..200),
        ) {
            let (clock, rl) = limiter();
            let quota = Quota::new(limit, Duration::from_millis(period_ms));
            let mut elapsed_ms = 0u64;
            let mut allowed_at: Vec<(u64, u32)> = Vec::new();
            for (wait_ms, cost) in steps {
                clock.advance(chrono::Duration::milliseconds(wait_ms as i64));
                elapsed_ms += wait_ms;
                let cost = cost.min(limit);
                if rl.check_now("k", &quota, cost).unwrap().allowed {
                    allowed_at.push((elapsed_ms, cost));
                }
            }
            // Every window [start, end] of allowed requests respects the bound.
            for (i, &(start, _)) in allowed_at.iter().enumerate() {
                let mut cells = 0u64;
                for &(end, cost) in &allowed_at[i..] {
                    cells += u64::from(cost);
                    let bound = f64::from(limit)
                        + (end - start) as f64 / period_ms as f64 * f64::from(limit);
                    prop_assert!(cells as f64 <= bound + 1e-9,
                        "{cells} cells in {}ms > {bound}", end - start);
                }
            }
        }
    }
}
