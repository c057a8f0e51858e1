//! What every channel shares: the retry schedule (exponential backoff with full jitter,
//! then the dead letter).

use std::time::Duration;

use rand::Rng;

/// Retries: attempt `n` (1-based) waits a random time in `[0, min(max, base * 2^(n-1))]`
/// ("full jitter", so many failed deliveries do not retry in lockstep); after `attempts`
/// tries the delivery is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first ceiling.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
    /// Tries in all, the first included.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            attempts: 6,
        }
    }
}

impl Backoff {
    /// The wait before the try after failed try number `failed` (1-based), or `None` when
    /// no try is left.
    pub fn delay(&self, failed: u32) -> Option<Duration> {
        if failed >= self.attempts {
            return None;
        }
        let ceiling = self.ceiling(failed);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(rand::rng().random_range(0..=millis)))
    }

    /// The upper bound of the wait after failed try `failed`.
    pub fn ceiling(&self, failed: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failed.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap_and_waits_stay_under_them() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 8,
        };
        let ceilings: Vec<u128> = (1..=6).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        for n in 1..8 {
            for _ in 0..50 {
                assert!(b.delay(n).unwrap() <= b.ceiling(n));
            }
        }
        // Jitter: the waits are not all equal.
        let waits: std::collections::BTreeSet<_> = (0..50).map(|_| b.delay(4).unwrap()).collect();
        assert!(waits.len() > 1);
        assert_eq!(b.delay(8), None);
        assert_eq!(b.ceiling(200), Duration::from_secs(1));
    }
}
