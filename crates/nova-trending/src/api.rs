//! The trending API, as other domains and the gateway see it.

use async_trait::async_trait;
use nova_core::{Error, Principal};

use crate::model::{Engagement, EntityKey, Ranked, ReviewState, Scope, Trend};

/// Trending, local or remote. Object-safe: hold it as `Arc<dyn TrendingApi>`.
#[async_trait]
pub trait TrendingApi: Send + Sync {
    /// Ingests engagement events; returns how many counted (the rest hit caps).
    async fn ingest(&self, events: &[Engagement]) -> Result<usize, Error>;

    /// What is trending in `scope` now (growth, review, cool-down applied).
    async fn trends(&self, scope: Scope, limit: usize) -> Result<Vec<Trend>, Error>;

    /// The most engaged-with entities in `scope` and `window` now.
    async fn top(&self, scope: Scope, window: &str, limit: usize) -> Result<Vec<Ranked>, Error>;

    /// A moderator approves or hides an entity (persisted at once). `PermissionDenied`
    /// unless `by` holds the `admin` or `moderator` scope.
    async fn review(
        &self,
        by: &Principal,
        entity: EntityKey,
        state: ReviewState,
    ) -> Result<(), Error>;

    /// Engagement velocity (weighted events per hour) of an entity, for ranking.
    async fn velocity(&self, entity: EntityKey) -> Result<f64, Error>;
}
