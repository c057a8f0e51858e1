//! [`CachedGraphStore`]: relationships, follow counts and first pages of follow lists
//! served from memory, for the single-process `nova` where every graph write passes
//! through here.
//!
//! A home-feed page asks for the viewer's relationships three times (feed filtering,
//! content visibility, the gateway's author check) and for the viewer's follow list
//! once; on SQLite each of those is a round trip to the database thread. Here they are
//! one map lookup. A write invalidates exactly the pairs and lists it can change, and
//! [`ReadCache`] keeps a read racing with a write from caching what it read before it.
//! Relationships with an active mute are not cached (the mute may expire without a
//! write). Never use it where another process writes the same graph (replicated
//! services share PostgreSQL).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_kv::ReadCache;

use super::{EdgeList, GraphStore, Position};
use crate::model::{CountDrift, FollowCounts, MuteSettings, Relationship, Suggestion};

/// The first page of a list, fetched with `limit`: serves any request for at most
/// `limit` items (or all of them, when the list was shorter than `limit`).
#[derive(Clone)]
struct FirstPage {
    limit: u32,
    items: Arc<Vec<Position>>,
}

const LISTS: [EdgeList; 3] = [EdgeList::Followers, EdgeList::Following, EdgeList::Mutual];

/// A [`GraphStore`] with an in-process read cache in front of another.
pub struct CachedGraphStore {
    inner: Arc<dyn GraphStore>,
    relationships: ReadCache<(UserId, UserId), Relationship>,
    first_pages: ReadCache<(EdgeList, UserId), FirstPage>,
    counts: ReadCache<UserId, FollowCounts>,
}

impl std::fmt::Debug for CachedGraphStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedGraphStore").finish_non_exhaustive()
    }
}

impl CachedGraphStore {
    /// Caches up to `capacity` relationships and `capacity / 4` list pages of `inner`.
    pub fn new(inner: Arc<dyn GraphStore>, capacity: u64) -> Self {
        Self {
            inner,
            relationships: ReadCache::new(capacity),
            first_pages: ReadCache::new((capacity / 4).max(1)),
            counts: ReadCache::new(capacity),
        }
    }

    /// After a write between `a` and `b`: their relationship both ways and, when
    /// `lists` is set (the write may change follows), every list and the counts of either.
    fn forget(&self, a: UserId, b: UserId, lists: bool) {
        self.relationships.invalidate([&(a, b), &(b, a)]);
        if lists {
            let keys: Vec<(EdgeList, UserId)> =
                LISTS.iter().flat_map(|l| [(*l, a), (*l, b)]).collect();
            self.first_pages.invalidate(keys.iter());
            self.counts.invalidate([&a, &b]);
        }
    }
}

#[async_trait]
impl GraphStore for CachedGraphStore {
    async fn follow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let result = self.inner.follow(follower, followee, now).await;
        self.forget(follower, followee, true);
        result
    }

    async fn unfollow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let result = self.inner.unfollow(follower, followee, now).await;
        self.forget(follower, followee, true);
        result
    }

    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let result = self.inner.block(blocker, blocked, now).await;
        self.forget(blocker, blocked, true);
        result
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let result = self.inner.unblock(blocker, blocked, now).await;
        self.forget(blocker, blocked, false);
        result
    }

    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        settings: MuteSettings,
        now: Timestamp,
    ) -> Result<bool> {
        let result = self.inner.mute(muter, muted, settings, now).await;
        self.forget(muter, muted, false);
        result
    }

    async fn unmute(&self, muter: UserId, muted: UserId, now: Timestamp) -> Result<bool> {
        let result = self.inner.unmute(muter, muted, now).await;
        self.forget(muter, muted, false);
        result
    }

    async fn relationships(
        &self,
        pairs: &[(UserId, UserId)],
        now: Timestamp,
    ) -> Result<Vec<Relationship>> {
        let mut found: Vec<Option<Relationship>> =
            pairs.iter().map(|p| self.relationships.get(p)).collect();
        let missing: Vec<(UserId, UserId)> = pairs
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(p, _)| *p)
            .collect();
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        let ticket = self.relationships.ticket();
        // One relationship per pair, in order (the store's contract).
        let mut fetched = self.inner.relationships(&missing, now).await?.into_iter();
        for slot in found.iter_mut().filter(|f| f.is_none()) {
            let rel = fetched.next().ok_or_else(|| {
                nova_core::Error::internal("graph store answered fewer relationships than pairs")
            })?;
            if !rel.muting {
                self.relationships.fill(ticket, (rel.from, rel.to), rel);
            }
            *slot = Some(rel);
        }
        Ok(found.into_iter().flatten().collect())
    }

    async fn list(
        &self,
        list: EdgeList,
        user: UserId,
        after: Option<Position>,
        limit: u32,
    ) -> Result<Vec<Position>> {
        if after.is_some() {
            return self.inner.list(list, user, after, limit).await;
        }
        if let Some(page) = self.first_pages.get(&(list, user))
            && (page.limit >= limit)
        {
            return Ok(page.items.iter().take(limit as usize).copied().collect());
        }
        let ticket = self.first_pages.ticket();
        let items = self.inner.list(list, user, None, limit).await?;
        self.first_pages.fill(
            ticket,
            (list, user),
            FirstPage {
                limit,
                items: Arc::new(items.clone()),
            },
        );
        Ok(items)
    }

    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        let mut found: Vec<Option<FollowCounts>> =
            users.iter().map(|u| self.counts.get(u)).collect();
        let missing: Vec<UserId> = users
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(u, _)| *u)
            .collect();
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        let ticket = self.counts.ticket();
        // In order, one per user (the store's contract).
        let mut fetched = self.inner.counts(&missing).await?.into_iter();
        for slot in found.iter_mut().filter(|f| f.is_none()) {
            let counts = fetched.next().ok_or_else(|| {
                nova_core::Error::internal("graph store answered fewer counts than users")
            })?;
            self.counts.fill(ticket, counts.user, counts);
            *slot = Some(counts);
        }
        Ok(found.into_iter().flatten().collect())
    }

    async fn suggestions(
        &self,
        user: UserId,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Suggestion>> {
        self.inner.suggestions(user, limit, now).await
    }

    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        self.inner.blocked_either_way(user).await
    }

    async fn count_drift(&self) -> Result<Vec<CountDrift>> {
        self.inner.count_drift().await
    }
}
