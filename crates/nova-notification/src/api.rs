//! The notification API.

use async_trait::async_trait;
use futures::stream::BoxStream;
use nova_core::{Page, Principal, Result};

use crate::model::{Folder, MarkRead, Notification, Policy};
use crate::preferences::Preferences;

/// The caller's grouped in-app notifications.
///
/// Every method acts for the caller only: a notification that is someone else's answers
/// `NotFound`, exactly like a missing one.
#[async_trait]
pub trait NotificationApi: Send + Sync {
    /// The caller's notifications in `folder`, newest activity first; `first` 0 means
    /// the default page (20), at most [`MAX_PAGE`](crate::model::MAX_PAGE).
    async fn list(
        &self,
        principal: &Principal,
        folder: Folder,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Notification>>;
    /// How many of the caller's notifications in `folder` are unread.
    async fn unread_count(&self, principal: &Principal, folder: Folder) -> Result<u64>;
    /// Marks notifications read; answers how many turned read.
    async fn mark_read(
        &self,
        principal: &Principal,
        folder: Folder,
        which: MarkRead,
    ) -> Result<u64>;
    /// The caller's filtering policy.
    async fn policy(&self, principal: &Principal) -> Result<Policy>;
    /// Replaces the caller's filtering policy (it applies to what arrives from now on).
    async fn set_policy(&self, principal: &Principal, policy: Policy) -> Result<Policy>;
    /// The caller's channel preferences (per kind: in-app, push, email) and quiet hours.
    async fn preferences(&self, principal: &Principal) -> Result<Preferences>;
    /// Replaces the caller's channel preferences; a bad field is a 400 naming it and
    /// changes nothing.
    async fn set_preferences(
        &self,
        principal: &Principal,
        preferences: Preferences,
    ) -> Result<Preferences>;
    /// The caller's notifications as they are written (a group that gains an actor comes
    /// again, updated), from now on.
    async fn subscribe(&self, principal: &Principal) -> Result<BoxStream<'static, Notification>>;
}
