//! Sharing leaderboards between replicas through Redis sorted sets (`nova_kv::SortedSets`).
//!
//! Each replica sees part of the stream. It publishes its leaders per scope and window
//! as `trending:{scope}:{window}:{replica}` with the **absolute** log score
//! `ln Σ w·exp(λ·t)` as the member's score — time-invariant, so sets written at
//! different moments compare directly — and registers itself in `trending:replicas`.
//! A reader merges every live replica's set with `log_add_exp` (sums in log space).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use nova_core::{Error, Timestamp};
use nova_kv::SortedSets;

use crate::decay::{self, log_add_exp};
use crate::engine::TrendingEngine;
use crate::model::{EntityKey, Ranked, Scope};

const REPLICAS: &str = "trending:replicas";

fn key(scope: &Scope, window: &str, replica: &str) -> String {
    format!("trending:{}:{window}:{replica}", scope.key())
}

/// One replica's view of the shared leaderboards.
#[derive(Clone)]
pub struct SharedLeaderboards {
    sets: Arc<dyn SortedSets>,
    replica: String,
    /// Replicas that have not published for this long are ignored.
    ttl: Duration,
}

impl std::fmt::Debug for SharedLeaderboards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLeaderboards")
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

/// What one replica publishes for one scope and window.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaders {
    /// The scope.
    pub scope: Scope,
    /// The window's name.
    pub window: String,
    /// Entities with absolute log scores.
    pub entries: Vec<(EntityKey, f64)>,
}

impl TrendingEngine {
    /// Every scope's leaders in every window, with absolute log scores.
    pub fn leaders(&self) -> Vec<Leaders> {
        let mut out = Vec::new();
        for table in &self.tables {
            for (k, w) in self.config.windows.iter().enumerate() {
                let start = self.epoch_start(self.epoch);
                let entries = table.boards[k]
                    .sorted()
                    .into_iter()
                    .filter(|(mass, _)| *mass > 0.0)
                    .map(|(mass, slot)| {
                        let abs = decay::absolute(mass, self.lambdas[k], start);
                        (table.entries[slot as usize].key, abs)
                    })
                    .collect();
                out.push(Leaders {
                    scope: table.scope,
                    window: w.name.clone(),
                    entries,
                });
            }
        }
        out
    }

    /// λ of a window, by name.
    pub fn lambda(&self, window: &str) -> Option<f64> {
        self.config.window(window).map(|k| self.lambdas[k])
    }
}

impl SharedLeaderboards {
    /// Replica `replica` over `sets`; replicas silent for `ttl` drop out of reads.
    pub fn new(sets: Arc<dyn SortedSets>, replica: impl Into<String>, ttl: Duration) -> Self {
        Self {
            sets,
            replica: replica.into(),
            ttl,
        }
    }

    /// Replaces this replica's published leaders.
    pub async fn publish(&self, leaders: &[Leaders], now: Timestamp) -> Result<(), Error> {
        for l in leaders {
            let key = key(&l.scope, &l.window, &self.replica);
            self.sets.delete(&key).await?;
            let members: Vec<(String, f64)> =
                l.entries.iter().map(|(e, s)| (e.to_string(), *s)).collect();
            if !members.is_empty() {
                let refs: Vec<(&str, f64)> =
                    members.iter().map(|(m, s)| (m.as_str(), *s)).collect();
                self.sets.zadd(&key, &refs).await?;
            }
        }
        self.sets
            .zadd(REPLICAS, &[(&self.replica, now.timestamp() as f64)])
            .await?;
        Ok(())
    }

    /// The merged top `limit` of every live replica, decayed to `now` with `lambda`
    /// (the window's rate, [`TrendingEngine::lambda`]).
    pub async fn top(
        &self,
        scope: &Scope,
        window: &str,
        lambda: f64,
        limit: usize,
        now: Timestamp,
    ) -> Result<Vec<Ranked>, Error> {
        let since = (now.timestamp() - self.ttl.as_secs() as i64) as f64;
        let replicas = self
            .sets
            .range_by_score(
                REPLICAS,
                nova_kv::ScoreRange {
                    min: std::ops::Bound::Included(since),
                    max: std::ops::Bound::Unbounded,
                },
                10_000,
            )
            .await?;
        let mut merged: HashMap<String, f64> = HashMap::new();
        for r in replicas {
            for m in self
                .sets
                .top(&key(scope, window, &r.member), 100_000)
                .await?
            {
                let slot = merged.entry(m.member).or_insert(f64::NEG_INFINITY);
                *slot = log_add_exp(*slot, m.score);
            }
        }
        let mut out: Vec<Ranked> = merged
            .into_iter()
            .filter_map(|(member, abs)| {
                let entity = member.parse::<EntityKey>().ok()?;
                let log_score = decay::at(abs, lambda, now.timestamp() as f64);
                Some(Ranked {
                    entity,
                    log_score,
                    score: log_score.exp(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.log_score
                .total_cmp(&a.log_score)
                .then(a.entity.cmp(&b.entity))
        });
        out.truncate(limit);
        Ok(out)
    }
}
