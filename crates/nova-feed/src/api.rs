//! The feed API.

use async_trait::async_trait;
use futures::stream::BoxStream;
use nova_core::{PostId, Principal, Result};

use crate::model::{FeedMode, FeedPage};

/// Home timelines, catch-up and explore.
///
/// Every item is visible to the viewer at read time: blocked, muted, unfollowed and
/// deleted authors' posts never appear, whatever the timeline cache still holds.
#[async_trait]
pub trait FeedApi: Send + Sync {
    /// The viewer's home timeline, hydrated and visibility-filtered, one page.
    async fn home(
        &self,
        viewer: &Principal,
        mode: FeedMode,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage>;
    /// What the viewer missed since their last home visit, ranked.
    async fn catch_up(&self, viewer: &Principal, first: u32) -> Result<FeedPage>;
    /// Trending posts (and the viewer's language/region) for discovery.
    async fn explore(
        &self,
        viewer: Option<&Principal>,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage>;
    /// Ids of posts entering the viewer's home timeline from now on (for GraphQL subscriptions).
    async fn new_posts(&self, viewer: &Principal) -> Result<BoxStream<'static, PostId>>;
}
