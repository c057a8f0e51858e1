//! Optional ports the gateway can use when a deployment provides them.

use async_trait::async_trait;
use futures::stream::BoxStream;
use nova_core::{Principal, Result, Timestamp};
use nova_trending::EntityKey;

/// A notification pushed to the `notifications` subscription.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
pub struct Notification {
    /// Unique id.
    pub id: String,
    /// What happened (`like`, `follow`, `mention`, ...).
    pub kind: String,
    /// When.
    pub created_at: Timestamp,
    /// Details as JSON text, shaped per `kind`.
    pub payload: String,
}

/// Where `notifications` subscriptions come from: the hook the notification domain plugs
/// into. Without one the subscription stays open and silent.
#[async_trait]
pub trait NotificationSource: Send + Sync {
    /// Notifications for `viewer` from now on.
    async fn subscribe(&self, viewer: &Principal) -> Result<BoxStream<'static, Notification>>;
}

/// Display labels (hashtag text, URL) of trending entities, whose ids are hashes.
#[async_trait]
pub trait TrendLabels: Send + Sync {
    /// The label of each entity, in order (`None` when unknown).
    async fn labels(&self, entities: &[EntityKey]) -> Result<Vec<Option<String>>>;
}

/// Trending's own label table (filled by its `LabelRecorder`) answers directly.
#[async_trait]
impl TrendLabels for nova_trending::labels::TrendLabelStore {
    async fn labels(&self, entities: &[EntityKey]) -> Result<Vec<Option<String>>> {
        nova_trending::labels::TrendLabelStore::labels(self, entities).await
    }
}
