//! The pipeline: features → model → per-user weights → re-ranking; and `explain`.

use std::collections::HashMap;
use std::sync::Arc;

use nova_core::{Error, Timestamp, UserId};

use crate::features::{self, FEATURES, N_FEATURES};
use crate::model::{AuthorSignals, Candidate, RankedItem, Viewer};
use crate::rerank::{RerankConfig, preference_weight, rerank};
use crate::scorer::{Explanation, Scorer};

/// Ranks candidates with one model. Pure: the caller supplies the signals.
#[derive(Clone)]
pub struct Ranker {
    scorer: Arc<dyn Scorer>,
    config: RerankConfig,
}

impl std::fmt::Debug for Ranker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ranker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Ranker {
    /// A ranker; the model must take [`N_FEATURES`] features.
    pub fn new(scorer: Arc<dyn Scorer>, config: RerankConfig) -> Result<Self, Error> {
        if scorer.n_features() != N_FEATURES {
            return Err(Error::invalid(
                "model",
                format!(
                    "the model takes {} features, the extractor gives {N_FEATURES}",
                    scorer.n_features()
                ),
            ));
        }
        Ok(Self { scorer, config })
    }

    /// The feature rows of `candidates` (row-major).
    pub fn features(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        signals: &HashMap<UserId, AuthorSignals>,
        now: Timestamp,
    ) -> Vec<f64> {
        let mut rows = Vec::with_capacity(candidates.len() * N_FEATURES);
        for c in candidates {
            let s = signals.get(&c.author_id).copied().unwrap_or_default();
            rows.extend_from_slice(&features::extract(viewer, c, &s, now));
        }
        rows
    }

    /// Scores, weighs and re-ranks; at most `limit` items in feed order.
    pub fn rank(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        signals: &HashMap<UserId, AuthorSignals>,
        now: Timestamp,
        limit: usize,
    ) -> Vec<RankedItem> {
        let rows = self.features(viewer, candidates, signals, now);
        let mut scores = vec![0.0; candidates.len()];
        self.scorer.score_batch(&rows, &mut scores);
        let items = candidates
            .iter()
            .zip(scores)
            .map(|(c, model_score)| RankedItem {
                post_id: c.post_id,
                author_id: c.author_id,
                model_score,
                score: model_score * preference_weight(&viewer.preferences, c),
                source: c.source,
            })
            .collect();
        rerank(items, viewer, &self.config, limit)
    }

    /// Per-feature contributions to one candidate's model score ("why am I seeing this").
    pub fn explain(
        &self,
        viewer: &Viewer,
        candidate: &Candidate,
        signals: &AuthorSignals,
        now: Timestamp,
    ) -> Explanation {
        let row = features::extract(viewer, candidate, signals, now);
        self.scorer.explain(&row, &FEATURES)
    }
}
