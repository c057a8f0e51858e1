//! The time port.
//!
//! Domain services never call `Utc::now()` directly: they hold a [`SharedClock`], so tests
//! can move time forward (token expiry, rate-limit windows, trending decay) without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};

use crate::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, UTC.
    fn now(&self) -> Timestamp;
}

/// A clock shared between services.
pub type SharedClock = Arc<dyn Clock>;

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use nova_core::{Clock, ManualClock};
/// let clock = ManualClock::at_epoch_seconds(1_700_000_000);
/// let before = clock.now();
/// clock.advance(chrono::Duration::minutes(15));
/// assert_eq!(clock.now() - before, chrono::Duration::minutes(15));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A manual clock starting at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A manual clock starting at a Unix time in seconds.
    pub fn at_epoch_seconds(secs: i64) -> Self {
        Self::new(chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Sets the current time.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }

    /// This clock as a [`SharedClock`] (still controlled through `self`).
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}
