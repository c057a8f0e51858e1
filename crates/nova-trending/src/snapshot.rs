//! Snapshots: the engine's state as plain rows (absolute log scores), for SQL and restore.

use nova_core::Timestamp;

use crate::config::MAX_WINDOWS;
use crate::decay;
use crate::engine::TrendingEngine;
use crate::model::{EntityKey, ReviewState, Scope};
use crate::sketch::Distinct;
use crate::table::Entry;

/// One tracked entity in one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    /// The scope.
    pub scope: Scope,
    /// The entity.
    pub entity: EntityKey,
    /// Per window name: `ln Σ wᵢ·exp(λ·tᵢ)` (time-invariant; windows without activity
    /// are left out).
    pub log_scores: Vec<(String, f64)>,
    /// Distinct accounts of the current and previous period ([`Distinct::to_bytes`]).
    pub accounts: Vec<u8>,
    /// Whether it was trending.
    pub trending: bool,
    /// Whether it had reached `min_accounts` distinct accounts (may be listed).
    pub qualified: bool,
    /// Unix seconds before which it may not trend again, if cooling down.
    pub cooldown_until: Option<i64>,
}

/// The engine's state at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// When it was taken.
    pub taken_at: Option<Timestamp>,
    /// The earliest event the engine had seen (Unix seconds).
    pub observed_since: Option<i64>,
    /// Tracked entities.
    pub rows: Vec<SnapshotRow>,
    /// Review decisions other than pending.
    pub reviews: Vec<(EntityKey, ReviewState)>,
}

impl TrendingEngine {
    /// Captures the state at `now` (for [`TrendingEngine::restore`] after a restart).
    pub fn snapshot(&self, now: Timestamp) -> Snapshot {
        let mut rows = Vec::new();
        for table in &self.tables {
            for e in &table.entries {
                let log_scores: Vec<(String, f64)> = (0..self.windows)
                    .filter(|&k| e.hot.mass[k] > 0.0)
                    .map(|k| {
                        let abs = decay::absolute(
                            e.hot.mass[k],
                            self.lambdas[k],
                            self.epoch_start(e.hot.epoch),
                        );
                        (self.config.windows[k].name.clone(), abs)
                    })
                    .collect();
                if log_scores.is_empty() {
                    continue;
                }
                let mut accounts = e.cur.clone();
                if self.period.saturating_sub(e.hot.period) == 0 {
                    accounts.merge(&e.prev);
                }
                rows.push(SnapshotRow {
                    scope: table.scope,
                    entity: e.key,
                    log_scores,
                    accounts: accounts.to_bytes(),
                    trending: e.trending,
                    qualified: e.qualified,
                    cooldown_until: (e.cooldown_until != i64::MIN).then_some(e.cooldown_until),
                });
            }
        }
        let mut reviews: Vec<_> = self.reviews.iter().map(|(k, v)| (*k, *v)).collect();
        reviews.sort_by_key(|(k, _)| *k);
        Snapshot {
            taken_at: Some(now),
            observed_since: (self.since != i64::MAX).then_some(self.since),
            rows,
            reviews,
        }
    }

    /// Loads a snapshot into this (normally fresh) engine. Windows are matched by name;
    /// rows beyond a scope's capacity or `max_scopes` are dropped. Returns the rows loaded.
    pub fn restore(&mut self, snapshot: &Snapshot) -> usize {
        if let Some(at) = snapshot.taken_at {
            self.advance(at.timestamp());
        }
        if let Some(since) = snapshot.observed_since {
            self.since = self.since.min(since);
        }
        for (entity, state) in &snapshot.reviews {
            self.set_review(*entity, *state);
        }
        let (epoch, period) = (self.epoch, self.period);
        let start = self.epoch_start(epoch);
        let mut loaded = 0;
        for row in &snapshot.rows {
            let mut entry = Entry::new(row.entity, epoch, period);
            for (name, abs) in &row.log_scores {
                if let Some(k) = self.config.window(name).filter(|&k| k < MAX_WINDOWS) {
                    entry.hot.mass[k] = (abs - self.lambdas[k] * start).exp();
                }
            }
            entry.cur = Distinct::from_bytes(&row.accounts).unwrap_or_default();
            entry.trending = row.trending;
            entry.qualified = row.qualified || entry.accounts(period) >= self.config.min_accounts;
            entry.cooldown_until = row.cooldown_until.unwrap_or(i64::MIN);
            if let Some(table) = self.table_mut(row.scope)
                && table.restore(entry)
            {
                loaded += 1;
            }
        }
        loaded
    }
}
