//! Engine configuration: weights, windows and the trend rules.

use std::time::Duration;

use nova_core::Error;

use crate::model::EngagementKind;

/// The most windows one engine tracks.
pub const MAX_WINDOWS: usize = 4;

/// A decay window: scores halve every `half_life` without new activity.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    /// Its name (`1h`, `24h`, `7d`): how queries and snapshots refer to it.
    pub name: String,
    /// The half-life.
    pub half_life: Duration,
}

impl WindowSpec {
    /// A window.
    pub fn new(name: impl Into<String>, half_life: Duration) -> Self {
        Self {
            name: name.into(),
            half_life,
        }
    }
}

/// Everything the engine can be tuned with. [`TrendingConfig::default`] is a sensible
/// start: windows 1 h / 24 h / 7 d, trends over 1 h against the 7 d baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingConfig {
    /// Decay windows (1 to [`MAX_WINDOWS`]).
    pub windows: Vec<WindowSpec>,
    /// Weight per [`EngagementKind`] (indexed by `kind as usize`), each > 0.
    pub weights: [f64; EngagementKind::COUNT],
    /// Entities tracked per scope; the long tail lives only in a Count-Min sketch.
    pub capacity: usize,
    /// How many leaders each scope keeps per window: the bound on `top` queries and the
    /// trend candidates.
    pub board_size: usize,
    /// Most scopes (global + languages + regions); events for further scopes only count
    /// globally.
    pub max_scopes: usize,
    /// Index into `windows` of the window trends are measured over.
    pub trend_window: usize,
    /// Index into `windows` of the baseline (expected activity).
    pub baseline_window: usize,
    /// Fewest distinct accounts (in this and the previous period) for a trend, and
    /// before an entity may appear in any list (`top`) at all.
    pub min_accounts: u64,
    /// Most events one account contributes to one entity per period (1 to 254); more
    /// are ignored.
    pub account_cap: u32,
    /// Size of the contribution-cap sketch; give it a few bytes per (entity, account)
    /// pair expected in one period, or honest accounts start being capped.
    pub cap_sketch_bytes: usize,
    /// The period of contribution caps and distinct-account counts.
    pub period: Duration,
    /// After an entity stops trending it cannot trend again for this long.
    pub cooldown: Duration,
    /// The smallest expected activity (weighted events per hour), so a first mention is
    /// not infinitely unusual.
    pub baseline_floor_per_hour: f64,
    /// Observed activity must be at least this multiple of the expected activity.
    pub min_growth: f64,
    /// Show only approved entities (otherwise everything but hidden ones).
    pub require_review: bool,
    /// A never-tracked entity needs this many events (Count-Min estimate) to displace
    /// a tracked one when a scope is full.
    pub admit_after: u32,
}

impl Default for TrendingConfig {
    fn default() -> Self {
        Self {
            windows: vec![
                WindowSpec::new("1h", Duration::from_secs(3600)),
                WindowSpec::new("24h", Duration::from_secs(86_400)),
                WindowSpec::new("7d", Duration::from_secs(7 * 86_400)),
            ],
            //        view like comment repost quote bookmark use
            weights: [0.1, 1.0, 2.0, 3.0, 3.0, 1.5, 1.0],
            capacity: 20_000,
            board_size: 256,
            max_scopes: 64,
            trend_window: 0,
            baseline_window: 2,
            min_accounts: 5,
            account_cap: 5,
            cap_sketch_bytes: 1 << 20,
            period: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(6 * 3600),
            baseline_floor_per_hour: 1.0,
            min_growth: 2.0,
            require_review: false,
            admit_after: 2,
        }
    }
}

impl TrendingConfig {
    /// Checks the configuration, naming the first bad field.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, why: &str| Err(Error::invalid(field, why.to_owned()));
        if self.windows.is_empty() || self.windows.len() > MAX_WINDOWS {
            return bad("windows", "between 1 and 4 windows");
        }
        if self.windows.iter().any(|w| w.half_life.as_secs() == 0) {
            return bad("windows", "half-lives must be at least one second");
        }
        if self.weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
            return bad("weights", "weights must be positive and finite");
        }
        if self.trend_window >= self.windows.len() || self.baseline_window >= self.windows.len() {
            return bad("trend_window", "must index a window");
        }
        if self.capacity == 0 || self.board_size == 0 || self.board_size > u16::MAX as usize {
            return bad("capacity", "capacity and board_size must be positive");
        }
        if !(1..=254).contains(&self.account_cap) {
            return bad("account_cap", "between 1 and 254");
        }
        if self.max_scopes == 0 || self.period.as_secs() == 0 {
            return bad("period", "max_scopes and period must be positive");
        }
        if !(self.baseline_floor_per_hour.is_finite() && self.baseline_floor_per_hour > 0.0) {
            return bad("baseline_floor_per_hour", "must be positive");
        }
        if !(self.min_growth.is_finite() && self.min_growth >= 1.0) {
            return bad("min_growth", "must be at least 1");
        }
        Ok(())
    }

    /// The index of the window called `name`.
    pub fn window(&self, name: &str) -> Option<usize> {
        self.windows.iter().position(|w| w.name == name)
    }
}
