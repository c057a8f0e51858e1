//! The users Store port, its SQL adapter (PostgreSQL and SQLite through
//! [`nova_db::on_db!`]) and an in-process read cache for the single-process `nova`.

mod cached;
mod sql;

use async_trait::async_trait;
use nova_core::{MediaId, PostId, Result, Timestamp, UserId};
use nova_events::EventEnvelope;

use crate::model::{DeletedBy, Settings};

pub use cached::CachedUserStore;
pub use sql::SqlUserStore;

/// A profile joined with its account row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileRow {
    /// The user.
    pub user_id: UserId,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Bio.
    pub bio: String,
    /// Avatar.
    pub avatar_media_id: Option<MediaId>,
    /// Banner.
    pub banner_media_id: Option<MediaId>,
    /// Links as a JSON array.
    pub links: String,
    /// Pronouns.
    pub pronouns: String,
    /// Pinned post.
    pub pinned_post_id: Option<PostId>,
    /// Private account.
    pub private_account: bool,
    /// Account created.
    pub created_at: Timestamp,
}

/// The profile fields as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFields {
    /// Display name.
    pub display_name: String,
    /// Bio.
    pub bio: String,
    /// Avatar.
    pub avatar: Option<MediaId>,
    /// Banner.
    pub banner: Option<MediaId>,
    /// Links (JSON array text).
    pub links_json: String,
    /// Pronouns.
    pub pronouns: String,
    /// Pinned post.
    pub pinned_post: Option<PostId>,
}

/// Users storage.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Active profiles of `ids` (deactivated and deleted ones left out), one query.
    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<ProfileRow>>;
    /// Active accounts' ids after `after` in id order, at most `limit`.
    async fn active_user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>>;
    /// The active profile with this username.
    async fn profile_by_username(&self, username_key: &str) -> Result<Option<ProfileRow>>;
    /// Writes profile fields.
    async fn save_profile(
        &self,
        user: UserId,
        fields: &ProfileFields,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// A user's settings (`None`: defaults).
    async fn settings(&self, user: UserId) -> Result<Option<Settings>>;
    /// Settings of many users, one query (users without a row are left out).
    async fn settings_many(&self, ids: &[UserId]) -> Result<Vec<(UserId, Settings)>>;
    /// Writes settings.
    async fn save_settings(
        &self,
        user: UserId,
        settings: &Settings,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// Renames `user`, reserving `old_key` until `reserve_until`. `Conflict` naming
    /// `username` when the new name is taken or reserved for someone else.
    async fn change_username(
        &self,
        user: UserId,
        new_username: &str,
        old_key: &str,
        reserve_until: Timestamp,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// Sets or clears `deactivated_at`; `false` if the account is deleted or absent.
    async fn set_deactivated(
        &self,
        user: UserId,
        at: Option<Timestamp>,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Soft-deletes: records who and why; `false` if already deleted or absent.
    async fn delete(
        &self,
        user: UserId,
        by: DeletedBy,
        reason: &str,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Whether the account is deactivated (and not deleted).
    async fn is_deactivated(&self, user: UserId) -> Result<bool>;
}
