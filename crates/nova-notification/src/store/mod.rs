//! The notification Store port and its SQL adapter (one set of queries for SQLite and
//! PostgreSQL).

mod sql;

use async_trait::async_trait;
use nova_core::{EventId, Result, Timestamp, UserId};

use crate::model::{Folder, Notification, NotificationId, NotificationKind, Policy};
use crate::preferences::Preferences;

pub use sql::SqlNotificationStore;

/// One actor joining the group `(recipient, kind, target, bucket, folder)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Whose notification.
    pub recipient: UserId,
    /// What happened.
    pub kind: NotificationKind,
    /// The post it is about, or `""`.
    pub target: String,
    /// Who did it.
    pub actor: UserId,
    /// The actor's own post (reply, quote, mentioning post), or `""`.
    pub subject: String,
    /// When (the event's time: replays land in the same group).
    pub at: Timestamp,
    /// Where it lands.
    pub folder: Folder,
}

/// What one event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An actor joins a group (created when missing).
    Add(Activity),
    /// An actor leaves every group `(recipient, kind, target)` (unlike, unfollow, ...);
    /// a group left empty is deleted.
    Remove {
        /// Whose notification.
        recipient: UserId,
        /// What was undone.
        kind: NotificationKind,
        /// The post, or `""`.
        target: String,
        /// Who undid it.
        actor: UserId,
    },
    /// A post is gone: groups about it and the actors whose own post it was.
    RemovePost {
        /// The post id.
        post: String,
    },
}

/// The changes of one event, applied once per event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventChanges {
    /// The event (deduplication key).
    pub event_id: EventId,
    /// What it changes (possibly nothing, still recorded as processed).
    pub changes: Vec<Change>,
}

/// A group an [`Change::Add`] put a new actor into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touched {
    /// Whose.
    pub recipient: UserId,
    /// The group.
    pub id: NotificationId,
}

/// A page position: the `(updated_at, id)` of the last item.
pub type Position = (i64, NotificationId);

/// Notification storage.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Applies each event's changes in one transaction, recording each event id for
    /// `consumer` in it: an event already recorded changes nothing. An actor counts once
    /// per group. `window_us` is the grouping window (the bucket is `at / window`).
    /// Answers the groups that gained an actor.
    async fn apply(
        &self,
        consumer: &str,
        events: &[EventChanges],
        window_us: i64,
        now: Timestamp,
    ) -> Result<Vec<Touched>>;
    /// `recipient`'s groups in `folder`, newest activity first, after `after`.
    async fn list(
        &self,
        recipient: UserId,
        folder: Folder,
        limit: u32,
        after: Option<Position>,
    ) -> Result<Vec<Notification>>;
    /// One of `recipient`'s groups (`None` when missing or someone else's).
    async fn get(&self, recipient: UserId, id: NotificationId) -> Result<Option<Notification>>;
    /// Unread groups of `recipient` in `folder`.
    async fn unread_count(&self, recipient: UserId, folder: Folder) -> Result<u64>;
    /// Marks one group read; `None` when it is missing or someone else's, else how many
    /// turned read (0 or 1).
    async fn mark_one(&self, recipient: UserId, id: NotificationId) -> Result<Option<u64>>;
    /// Marks read every group in `folder` at or before `up_to` (everything for `None`);
    /// how many turned read.
    async fn mark_up_to(
        &self,
        recipient: UserId,
        folder: Folder,
        up_to: Option<Position>,
    ) -> Result<u64>;
    /// The policies of `users`, in order (the default for users without one).
    async fn policies(&self, users: &[UserId]) -> Result<Vec<Policy>>;
    /// Stores `user`'s policy.
    async fn set_policy(&self, user: UserId, policy: Policy, now: Timestamp) -> Result<()>;
    /// The channel preferences of `users`, in order (the defaults for users without any).
    async fn preferences(&self, users: &[UserId]) -> Result<Vec<Preferences>>;
    /// Stores `user`'s (validated) channel preferences.
    async fn set_preferences(
        &self,
        user: UserId,
        preferences: &Preferences,
        now: Timestamp,
    ) -> Result<()>;
}
