//! Optional ports the gateway can use when a deployment provides them.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use nova_core::{Principal, Result, Timestamp, UserId};
use nova_notification::NotificationApi;
use nova_trending::EntityKey;

/// A grouped notification ("ada and 5 others liked your post"), as listed by
/// `notifications` and pushed to the `notifications` subscription (again each time its
/// group gains an actor).
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(complex)]
pub struct Notification {
    /// Unique id (the group's).
    pub id: String,
    /// What happened (`like`, `reply`, `mention`, `follow`, `follow_request`, `repost`,
    /// `quote`, ...).
    pub kind: String,
    /// When the group started.
    pub created_at: Timestamp,
    /// The whole notification as the domain's JSON (REST shape).
    pub payload: String,
    /// The newest activity in the group (the list's order).
    pub updated_at: Timestamp,
    /// The post it is about (none for follows and follow requests).
    pub target_id: Option<String>,
    /// How many accounts are in the group.
    pub count: u64,
    /// Not read yet.
    pub unread: bool,
    /// The latest few actors, newest first (resolved as `actors`).
    #[graphql(skip)]
    pub actor_ids: Vec<UserId>,
}

impl From<nova_notification::Notification> for Notification {
    fn from(n: nova_notification::Notification) -> Self {
        Self {
            id: n.id.to_string(),
            kind: n.kind.as_str().to_owned(),
            created_at: n.created_at,
            payload: serde_json::to_string(&n).unwrap_or_default(),
            updated_at: n.updated_at,
            target_id: n.target_id.clone(),
            count: n.count,
            unread: n.unread,
            actor_ids: n.actors.iter().map(|a| a.user_id).collect(),
        }
    }
}

/// Where `notifications` subscriptions come from: the hook the notification domain plugs
/// into. Without one the subscription stays open and silent.
#[async_trait]
pub trait NotificationSource: Send + Sync {
    /// Notifications for `viewer` from now on.
    async fn subscribe(&self, viewer: &Principal) -> Result<BoxStream<'static, Notification>>;
}

/// The notification domain's live stream as the subscription's source.
pub struct LiveNotifications(pub Arc<dyn NotificationApi>);

#[async_trait]
impl NotificationSource for LiveNotifications {
    async fn subscribe(&self, viewer: &Principal) -> Result<BoxStream<'static, Notification>> {
        Ok(self
            .0
            .subscribe(viewer)
            .await?
            .map(Notification::from)
            .boxed())
    }
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
