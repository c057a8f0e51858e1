//! [`CachedUserStore`]: profiles and settings by id served from memory, for the
//! single-process `nova` where every write to them passes through this store.
//!
//! Every page of posts asks for its authors' profiles (the gateway) and settings
//! (visibility of private accounts); on SQLite each is a round trip to the database
//! thread. A write drops the user's entries; [`ReadCache`] keeps a read racing with a
//! write from caching what it read before it. Absent profiles are not cached (an
//! account registered a moment later must appear). Never use it where another process
//! writes the same users (replicated services share PostgreSQL).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_kv::ReadCache;

use super::{ProfileFields, ProfileRow, UserStore};
use crate::model::{DeletedBy, Settings};

/// A [`UserStore`] with an in-process read cache in front of another.
pub struct CachedUserStore {
    inner: Arc<dyn UserStore>,
    profiles: ReadCache<UserId, Arc<ProfileRow>>,
    settings: ReadCache<UserId, Option<Settings>>,
}

impl std::fmt::Debug for CachedUserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedUserStore").finish_non_exhaustive()
    }
}

impl CachedUserStore {
    /// Caches up to `capacity` profiles and `capacity` settings of `inner`.
    pub fn new(inner: Arc<dyn UserStore>, capacity: u64) -> Self {
        Self {
            inner,
            profiles: ReadCache::new(capacity),
            settings: ReadCache::new(capacity),
        }
    }

    /// After any write about `user`.
    fn forget(&self, user: UserId) {
        self.profiles.invalidate([&user]);
        self.settings.invalidate([&user]);
    }
}

#[async_trait]
impl UserStore for CachedUserStore {
    async fn active_user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>> {
        self.inner.active_user_ids(after, limit).await
    }

    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<ProfileRow>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.profiles.get(id) {
                Some(row) => out.push(ProfileRow::clone(&row)),
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            let ticket = self.profiles.ticket();
            for row in self.inner.profiles(&missing).await? {
                self.profiles
                    .fill(ticket, row.user_id, Arc::new(row.clone()));
                out.push(row);
            }
        }
        Ok(out)
    }

    async fn profile_by_username(&self, username_key: &str) -> Result<Option<ProfileRow>> {
        self.inner.profile_by_username(username_key).await
    }

    async fn save_profile(
        &self,
        user: UserId,
        fields: &ProfileFields,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        let result = self.inner.save_profile(user, fields, now, events).await;
        self.forget(user);
        result
    }

    async fn settings(&self, user: UserId) -> Result<Option<Settings>> {
        if let Some(settings) = self.settings.get(&user) {
            return Ok(settings);
        }
        let ticket = self.settings.ticket();
        let settings = self.inner.settings(user).await?;
        self.settings.fill(ticket, user, settings);
        Ok(settings)
    }

    async fn settings_many(&self, ids: &[UserId]) -> Result<Vec<(UserId, Settings)>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.settings.get(id) {
                Some(Some(settings)) => out.push((*id, settings)),
                Some(None) => {}
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            let ticket = self.settings.ticket();
            let found = self.inner.settings_many(&missing).await?;
            for id in missing {
                let settings = found.iter().find(|(u, _)| *u == id).map(|(_, s)| *s);
                self.settings.fill(ticket, id, settings);
            }
            out.extend(found);
        }
        Ok(out)
    }

    async fn save_settings(
        &self,
        user: UserId,
        settings: &Settings,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        let result = self.inner.save_settings(user, settings, now, events).await;
        self.forget(user);
        result
    }

    async fn change_username(
        &self,
        user: UserId,
        new_username: &str,
        old_key: &str,
        reserve_until: Timestamp,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        let result = self
            .inner
            .change_username(user, new_username, old_key, reserve_until, now, events)
            .await;
        self.forget(user);
        result
    }

    async fn set_deactivated(
        &self,
        user: UserId,
        at: Option<Timestamp>,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let result = self.inner.set_deactivated(user, at, events).await;
        self.forget(user);
        result
    }

    async fn delete(
        &self,
        user: UserId,
        by: DeletedBy,
        reason: &str,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let result = self.inner.delete(user, by, reason, now, events).await;
        self.forget(user);
        result
    }

    async fn is_deactivated(&self, user: UserId) -> Result<bool> {
        self.inner.is_deactivated(user).await
    }
}
