//! The sorted-set port (timelines, trending, leaderboards) and its in-process implementation.
//!
//! Semantics follow Redis: members are unique strings with an `f64` score; ties on score
//! order by member bytes; reads are by descending score (ties in descending member order),
//! like `ZREVRANGE`. NaN scores are rejected.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
use nova_core::{Error, Result};

/// A member and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredMember {
    /// The member.
    pub member: String,
    /// Its score.
    pub score: f64,
}

impl ScoredMember {
    /// A member with a score.
    pub fn new(member: impl Into<String>, score: f64) -> Self {
        Self {
            member: member.into(),
            score,
        }
    }
}

/// A score interval with inclusive, exclusive or open ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// The lowest score (`Unbounded`: `-inf`).
    pub min: Bound<f64>,
    /// The highest score (`Unbounded`: `+inf`).
    pub max: Bound<f64>,
}

impl ScoreRange {
    /// Every score.
    pub const fn all() -> Self {
        Self {
            min: Bound::Unbounded,
            max: Bound::Unbounded,
        }
    }

    /// `min <= score <= max`.
    pub const fn inclusive(min: f64, max: f64) -> Self {
        Self {
            min: Bound::Included(min),
            max: Bound::Included(max),
        }
    }

    /// `score < max`: the next page after a cursor at `max`, when paging downwards.
    pub const fn below(max: f64) -> Self {
        Self {
            min: Bound::Unbounded,
            max: Bound::Excluded(max),
        }
    }

    /// Whether `score` lies in the range.
    pub fn contains(&self, score: f64) -> bool {
        let above_min = match self.min {
            Bound::Included(min) => score >= min,
            Bound::Excluded(min) => score > min,
            Bound::Unbounded => true,
        };
        let below_max = match self.max {
            Bound::Included(max) => score <= max,
            Bound::Excluded(max) => score < max,
            Bound::Unbounded => true,
        };
        above_min && below_max
    }
}

/// Sorted sets of scored string members, keyed by name.
#[async_trait]
pub trait SortedSets: Send + Sync {
    /// Adds or re-scores `members` of `key`; returns how many were new.
    async fn zadd(&self, key: &str, members: &[(&str, f64)]) -> Result<u64>;

    /// Adds `(key, member, score)` triples across many keys in one round trip
    /// (a timeline fan-out). Not atomic across keys.
    async fn zadd_many(&self, entries: &[(&str, &str, f64)]) -> Result<()>;

    /// Adds `delta` to `member`'s score (a missing member starts at 0); returns the new score.
    async fn zincrby(&self, key: &str, member: &str, delta: f64) -> Result<f64>;

    /// Removes `members`; returns how many were present.
    async fn zrem(&self, key: &str, members: &[&str]) -> Result<u64>;

    /// The score of `member`, if present.
    async fn score(&self, key: &str, member: &str) -> Result<Option<f64>>;

    /// The `n` highest-scored members, highest first.
    async fn top(&self, key: &str, n: usize) -> Result<Vec<ScoredMember>>;

    /// Up to `limit` members whose score lies in `range`, highest first.
    async fn range_by_score(
        &self,
        key: &str,
        range: ScoreRange,
        limit: usize,
    ) -> Result<Vec<ScoredMember>>;

    /// The number of members.
    async fn zcard(&self, key: &str) -> Result<u64>;

    /// Keeps only the `keep` highest-scored members; returns how many were removed.
    async fn trim_to_top(&self, key: &str, keep: usize) -> Result<u64>;

    /// Deletes the whole set; returns whether it existed.
    async fn delete(&self, key: &str) -> Result<bool>;
}

/// Rejects NaN, which has no place in an order (Redis rejects it too).
pub(crate) fn check_score(score: f64) -> Result<()> {
    if score.is_nan() {
        return Err(Error::invalid("score", "must be a number"));
    }
    Ok(())
}

/// An `f64` with a total order; `-0.0` is stored as `0.0`, as Redis does.
#[derive(Debug, Clone, Copy)]
struct Score(f64);

impl Score {
    fn new(score: f64) -> Self {
        Self(score + 0.0)
    }
}

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Default)]
struct ZSet {
    ordered: BTreeSet<(Score, String)>,
    scores: HashMap<String, f64>,
}

impl ZSet {
    /// Sets `member`'s score; returns whether it was new.
    fn insert(&mut self, member: &str, score: f64) -> bool {
        let score = Score::new(score);
        let previous = self.scores.insert(member.to_owned(), score.0);
        if let Some(old) = previous {
            self.ordered.remove(&(Score(old), member.to_owned()));
        }
        self.ordered.insert((score, member.to_owned()));
        previous.is_none()
    }

    fn remove(&mut self, member: &str) -> bool {
        match self.scores.remove(member) {
            Some(old) => self.ordered.remove(&(Score(old), member.to_owned())),
            None => false,
        }
    }

    fn descending(&self) -> impl Iterator<Item = ScoredMember> + '_ {
        self.ordered
            .iter()
            .rev()
            .map(|(score, member)| ScoredMember::new(member.clone(), score.0))
    }
}

/// Sorted sets in this process: a `BTreeSet<(score, member)>` plus a member→score map
/// per key, all behind one mutex (operations are short and never await).
#[derive(Debug, Default)]
pub struct InProcessSortedSets {
    sets: Mutex<HashMap<String, ZSet>>,
}

impl InProcessSortedSets {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, ZSet>) -> T) -> T {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut sets)
    }

    /// Runs `f` on `key`'s set, dropping the set if `f` leaves it empty.
    fn with_set<T>(&self, key: &str, f: impl FnOnce(&mut ZSet) -> T) -> T {
        self.with(|sets| {
            let set = sets.entry(key.to_owned()).or_default();
            let out = f(set);
            if set.scores.is_empty() {
                sets.remove(key);
            }
            out
        })
    }

    fn read<T>(&self, key: &str, f: impl FnOnce(&ZSet) -> T) -> Option<T> {
        self.with(|sets| sets.get(key).map(f))
    }
}

#[async_trait]
impl SortedSets for InProcessSortedSets {
    async fn zadd(&self, key: &str, members: &[(&str, f64)]) -> Result<u64> {
        for (_, score) in members {
            check_score(*score)?;
        }
        Ok(self.with_set(key, |set| {
            let added = members.iter().filter(|(m, s)| set.insert(m, *s)).count();
            added as u64
        }))
    }

    async fn zadd_many(&self, entries: &[(&str, &str, f64)]) -> Result<()> {
        for (_, _, score) in entries {
            check_score(*score)?;
        }
        self.with(|sets| {
            for (key, member, score) in entries {
                sets.entry((*key).to_owned())
                    .or_default()
                    .insert(member, *score);
            }
        });
        Ok(())
    }

    async fn zincrby(&self, key: &str, member: &str, delta: f64) -> Result<f64> {
        check_score(delta)?;
        self.with_set(key, |set| {
            let score = set.scores.get(member).copied().unwrap_or(0.0) + delta;
            check_score(score)?;
            set.insert(member, score);
            Ok(score + 0.0)
        })
    }

    async fn zrem(&self, key: &str, members: &[&str]) -> Result<u64> {
        Ok(self.with_set(key, |set| {
            members.iter().filter(|m| set.remove(m)).count() as u64
        }))
    }

    async fn score(&self, key: &str, member: &str) -> Result<Option<f64>> {
        Ok(self
            .read(key, |set| set.scores.get(member).copied())
            .flatten())
    }

    async fn top(&self, key: &str, n: usize) -> Result<Vec<ScoredMember>> {
        Ok(self
            .read(key, |set| set.descending().take(n).collect())
            .unwrap_or_default())
    }

    async fn range_by_score(
        &self,
        key: &str,
        range: ScoreRange,
        limit: usize,
    ) -> Result<Vec<ScoredMember>> {
        for bound in [range.min, range.max] {
            if let Bound::Included(s) | Bound::Excluded(s) = bound {
                check_score(s)?;
            }
        }
        Ok(self
            .read(key, |set| {
                set.descending()
                    .skip_while(|m| above(&range, m.score))
                    .take_while(|m| range.contains(m.score))
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn zcard(&self, key: &str) -> Result<u64> {
        Ok(self
            .read(key, |set| set.scores.len() as u64)
            .unwrap_or_default())
    }

    async fn trim_to_top(&self, key: &str, keep: usize) -> Result<u64> {
        Ok(self.with_set(key, |set| {
            let excess = set.scores.len().saturating_sub(keep);
            for _ in 0..excess {
                if let Some((_, member)) = set.ordered.pop_first() {
                    set.scores.remove(&member);
                }
            }
            excess as u64
        }))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        Ok(self.with(|sets| sets.remove(key).is_some()))
    }
}

/// Whether `score` lies above the range's upper end (so a descending scan skips it).
fn above(range: &ScoreRange, score: f64) -> bool {
    match range.max {
        Bound::Included(max) => score > max,
        Bound::Excluded(max) => score >= max,
        Bound::Unbounded => false,
    }
}
