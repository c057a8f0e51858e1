//! The ranking API, as the feed and the gateway see it.

use async_trait::async_trait;
use nova_core::{Error, UserId};

use crate::model::{Candidate, RankedItem, Viewer};
use crate::scorer::Explanation;
use crate::store::Interaction;

/// Ranking, local or remote. Object-safe: hold it as `Arc<dyn RankingApi>`.
#[async_trait]
pub trait RankingApi: Send + Sync {
    /// Orders `candidates` for `viewer`; at most `limit` items.
    async fn rank(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        limit: usize,
    ) -> Result<Vec<RankedItem>, Error>;

    /// Why `viewer` sees `candidate` where they do: per-feature contributions.
    async fn explain(&self, viewer: &Viewer, candidate: &Candidate) -> Result<Explanation, Error>;

    /// Records an interaction of `viewer` with `author`'s content (a feature source).
    async fn record(
        &self,
        viewer: UserId,
        author: UserId,
        interaction: Interaction,
    ) -> Result<(), Error>;
}
