//! The users API.

use async_trait::async_trait;
use nova_core::{Principal, Result, UserId};

use crate::model::{PrivacySettings, Profile, ProfileUpdate, Settings};

/// Profiles, settings and account lifecycle.
///
/// Deactivated and deleted accounts are `NotFound` to everyone else, exactly like ids
/// that never existed.
#[async_trait]
pub trait UserApi: Send + Sync {
    /// One profile.
    async fn profile(&self, user: UserId) -> Result<Profile>;
    /// One profile by username (case-insensitive).
    async fn profile_by_username(&self, username: &str) -> Result<Profile>;
    /// Many profiles in one query; missing, deactivated and deleted ones are left out, the
    /// rest keep the order of `ids`.
    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<Profile>>;
    /// Changes the caller's profile.
    async fn update_profile(&self, principal: &Principal, update: ProfileUpdate)
    -> Result<Profile>;
    /// The caller's settings.
    async fn settings(&self, principal: &Principal) -> Result<Settings>;
    /// Replaces the caller's settings.
    async fn update_settings(&self, principal: &Principal, settings: Settings) -> Result<Settings>;
    /// Privacy settings of many users in one query (for social, content, chat).
    async fn privacy(&self, ids: &[UserId]) -> Result<Vec<PrivacySettings>>;
    /// Takes a new username; the old one stays reserved for 30 days.
    async fn change_username(&self, principal: &Principal, username: &str) -> Result<Profile>;
    /// Hides the caller's account until they reactivate it.
    async fn deactivate(&self, principal: &Principal) -> Result<()>;
    /// Brings a deactivated account back.
    async fn reactivate(&self, principal: &Principal) -> Result<()>;
    /// Deletes the caller's account (soft: content is gone to everyone, the row remains
    /// for audit with who did it and why).
    async fn delete_account(&self, principal: &Principal, reason: &str) -> Result<()>;
    /// Active accounts' ids after `after` in id order, at most `limit` (1..=1000): for
    /// rebuilding derived indexes (`nova search reindex`) in-process. Not served over
    /// gRPC: a remote client answers `Unavailable`.
    async fn active_user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>> {
        let _ = (after, limit);
        Err(nova_core::Error::new(
            nova_core::ErrorKind::Unavailable,
            "listing accounts is only available in-process",
        ))
    }
    /// Deletes another user's account; needs the `moderator` scope.
    async fn moderator_delete(
        &self,
        moderator: &Principal,
        user: UserId,
        reason: &str,
    ) -> Result<()>;
}
