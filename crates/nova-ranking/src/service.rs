//! The ranking service: the [`Ranker`] plus the feature store and a clock.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, SharedClock, UserId};

use crate::api::RankingApi;
use crate::model::{Candidate, RankedItem, Viewer};
use crate::ranker::Ranker;
use crate::scorer::Explanation;
use crate::store::{FeatureStore, Interaction};

/// Most candidates one request may carry.
pub const MAX_CANDIDATES: usize = 10_000;

/// Most entries in each of a viewer's sets (langs, follows, followers, seen) on the wire:
/// feed sends at most its following scan (2,000 by default), with room for configuration.
pub const MAX_VIEWER_SET: usize = 10_000;

/// Ranking in this process.
#[derive(Clone)]
pub struct RankingService {
    ranker: Ranker,
    store: Arc<dyn FeatureStore>,
    clock: SharedClock,
}

impl std::fmt::Debug for RankingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RankingService")
            .field("ranker", &self.ranker)
            .finish_non_exhaustive()
    }
}

impl RankingService {
    /// A service over its parts.
    pub fn new(ranker: Ranker, store: Arc<dyn FeatureStore>, clock: SharedClock) -> Self {
        Self {
            ranker,
            store,
            clock,
        }
    }
}

#[async_trait]
impl RankingApi for RankingService {
    async fn rank(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        limit: usize,
    ) -> Result<Vec<RankedItem>, Error> {
        nova_core::error::cap("candidates", candidates.len(), MAX_CANDIDATES)?;
        let mut authors: Vec<UserId> = candidates.iter().map(|c| c.author_id).collect();
        authors.sort_by_key(|a| a.as_uuid());
        authors.dedup();
        let signals = self.store.author_signals(viewer.user_id, &authors).await?;
        Ok(self
            .ranker
            .rank(viewer, candidates, &signals, self.clock.now(), limit))
    }

    async fn explain(&self, viewer: &Viewer, candidate: &Candidate) -> Result<Explanation, Error> {
        let signals = self
            .store
            .author_signals(viewer.user_id, &[candidate.author_id])
            .await?;
        let s = signals
            .get(&candidate.author_id)
            .copied()
            .unwrap_or_default();
        Ok(self.ranker.explain(viewer, candidate, &s, self.clock.now()))
    }

    async fn record(
        &self,
        viewer: UserId,
        author: UserId,
        interaction: Interaction,
    ) -> Result<(), Error> {
        if viewer == author {
            return Ok(()); // interacting with yourself says nothing about affinity
        }
        self.store
            .record(viewer, author, interaction, self.clock.now())
            .await
    }
}
