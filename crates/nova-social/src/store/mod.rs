//! The social Store port and its SQL adapter.

mod sql;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_events::EventEnvelope;

use crate::model::{BlockList, BlockListId, FollowRequest};

pub use sql::SqlSocialStore;

/// Social storage. Methods taking `events` write them in the same transaction, and only
/// when the change actually happened.
#[async_trait]
pub trait SocialStore: Send + Sync {
    /// Records a follow request; `false` if one was pending.
    async fn add_request(
        &self,
        requester: UserId,
        target: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Removes a pending request; `false` if there was none.
    async fn remove_request(
        &self,
        requester: UserId,
        target: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Requests waiting for `target`, oldest first.
    async fn pending_for(&self, target: UserId) -> Result<Vec<FollowRequest>>;
    /// Removes requests between two users, both directions.
    async fn remove_requests_between(&self, a: UserId, b: UserId) -> Result<u64>;
    /// Creates a block list.
    async fn create_list(&self, list: &BlockList, events: &[EventEnvelope]) -> Result<()>;
    /// A block list.
    async fn list(&self, id: BlockListId) -> Result<Option<BlockList>>;
    /// Adds an entry; `false` if present.
    async fn add_entry(
        &self,
        list: BlockListId,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Removes an entry; `false` if absent.
    async fn remove_entry(
        &self,
        list: BlockListId,
        user: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Subscribes; `false` if already subscribed.
    async fn subscribe(
        &self,
        list: BlockListId,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Unsubscribes; `false` if not subscribed.
    async fn unsubscribe(
        &self,
        list: BlockListId,
        user: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Those of `targets` separated from `viewer` by a block list either of them subscribes
    /// to (one query).
    async fn list_blocked(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<UserId>>;
}
