//! The scoring port: every model implements [`Scorer`].

use serde::Serialize;

/// One feature's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The feature's name (or `f<index>` for unnamed features).
    pub feature: String,
    /// Its value.
    pub value: f64,
    /// How much it moved the raw score (before the link function).
    pub contribution: f64,
}

/// Why a candidate got its score: `bias + Σ contributions = raw`, `score = link(raw)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The raw score's starting point (intercept, or the trees' expected value).
    pub bias: f64,
    /// The raw score (log-odds for logistic models).
    pub raw: f64,
    /// The final score.
    pub score: f64,
    /// Per-feature contributions, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

/// How a raw score becomes the final score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The raw score itself (regression, ranking).
    Identity,
    /// `1 / (1 + exp(−raw))`, a probability.
    Logistic,
}

impl Link {
    /// Applies the link.
    #[inline]
    pub fn apply(self, raw: f64) -> f64 {
        match self {
            Self::Identity => raw,
            Self::Logistic => 1.0 / (1.0 + (-raw).exp()),
        }
    }
}

/// A model that scores feature vectors. Object-safe: services hold `Arc<dyn Scorer>`.
pub trait Scorer: Send + Sync {
    /// How many features a row has.
    fn n_features(&self) -> usize;

    /// Scores one row (`n_features` values; `NaN` = missing).
    fn score(&self, row: &[f64]) -> f64;

    /// Scores `rows` (row-major, `n_features` per row) into `out` (one per row).
    /// Implementations override this with a faster batched loop.
    fn score_batch(&self, rows: &[f64], out: &mut [f64]) {
        let n = self.n_features().max(1);
        for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
            *o = self.score(row);
        }
    }

    /// Per-feature contributions for one row; `names[i]` names feature `i` when present.
    fn explain(&self, row: &[f64], names: &[&str]) -> Explanation;
}

/// Names feature `i`.
pub(crate) fn name(names: &[&str], i: usize) -> String {
    names
        .get(i)
        .map_or_else(|| format!("f{i}"), |n| (*n).to_owned())
}

/// Sorts contributions by magnitude, largest first.
pub(crate) fn sort_contributions(c: &mut [Contribution]) {
    c.sort_by(|a, b| {
        b.contribution
            .abs()
            .total_cmp(&a.contribution.abs())
            .then_with(|| a.feature.cmp(&b.feature))
    });
}
