//! [`GraphService`]: the [`GraphApi`] over a [`GraphStore`], a clock and a cursor codec.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::SubsecRound;
use nova_core::cursor::CursorCodec;
use nova_core::{Error, Result, SharedClock, Timestamp, UserId};
use nova_events::RelayWaker;

use crate::api::GraphApi;
use crate::model::{
    DEFAULT_PAGE, FollowCounts, MAX_BATCH, MAX_PAGE, MuteSettings, Page, Relationship, Suggestion,
};
use crate::store::{EdgeList, GraphStore, Position};

/// The graph engine: validation, cursors and time around a [`GraphStore`].
#[derive(Clone)]
pub struct GraphService {
    store: Arc<dyn GraphStore>,
    clock: SharedClock,
    cursors: CursorCodec,
    relay: Option<RelayWaker>,
}

impl std::fmt::Debug for GraphService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphService").finish_non_exhaustive()
    }
}

impl GraphService {
    /// Over `store`, reading time from `clock` (mute expiry, edge times) and signing
    /// cursors with `cursors`.
    pub fn new(store: Arc<dyn GraphStore>, clock: SharedClock, cursors: CursorCodec) -> Self {
        Self {
            store,
            clock,
            cursors,
            relay: None,
        }
    }

    /// Wakes the outbox relay after each write that emitted events.
    pub fn with_relay(mut self, waker: RelayWaker) -> Self {
        self.relay = Some(waker);
        self
    }

    /// The store (for audits such as [`GraphStore::count_drift`]).
    pub fn store(&self) -> &Arc<dyn GraphStore> {
        &self.store
    }

    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    fn wrote(&self, changed: bool) -> bool {
        if changed && let Some(relay) = &self.relay {
            relay.wake();
        }
        changed
    }

    async fn page(
        &self,
        list: EdgeList,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        let first = page_size(first);
        let after: Option<Position> = self.cursors.decode_opt(after)?;
        let mut rows = self.store.list(list, user, after, first + 1).await?;
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|p| self.cursors.encode(p)).transpose()?;
        Ok(Page {
            items: rows.into_iter().map(|(_, id)| id).collect(),
            end_cursor,
            has_next_page,
        })
    }
}

fn page_size(first: u32) -> u32 {
    if first == 0 {
        DEFAULT_PAGE
    } else {
        first.min(MAX_PAGE)
    }
}

fn distinct(a: UserId, b: UserId, what: &str) -> Result<()> {
    if a == b {
        return Err(Error::invalid(what, "cannot be the user themselves"));
    }
    Ok(())
}

fn batch<T>(items: &[T], field: &str) -> Result<()> {
    nova_core::error::cap(field, items.len(), MAX_BATCH)
}

#[async_trait]
impl GraphApi for GraphService {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        distinct(follower, followee, "followee")?;
        let created = self.store.follow(follower, followee, self.now()).await?;
        Ok(self.wrote(created))
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        distinct(follower, followee, "followee")?;
        let removed = self.store.unfollow(follower, followee, self.now()).await?;
        Ok(self.wrote(removed))
    }

    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        distinct(blocker, blocked, "blocked")?;
        let created = self.store.block(blocker, blocked, self.now()).await?;
        // A repeated block may still have removed follows written around it: wake anyway.
        self.wrote(true);
        Ok(created)
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        distinct(blocker, blocked, "blocked")?;
        let removed = self.store.unblock(blocker, blocked, self.now()).await?;
        Ok(self.wrote(removed))
    }

    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<bool> {
        distinct(muter, muted, "muted")?;
        let now = self.now();
        let until = until.map(|t| t.trunc_subsecs(6));
        if until.is_some_and(|t| t <= now) {
            return Err(Error::invalid("until", "must be in the future"));
        }
        let settings = MuteSettings {
            until,
            reposts_only,
        };
        let created = self.store.mute(muter, muted, settings, now).await?;
        self.wrote(true);
        Ok(created)
    }

    async fn unmute(&self, muter: UserId, muted: UserId) -> Result<bool> {
        distinct(muter, muted, "muted")?;
        let removed = self.store.unmute(muter, muted, self.now()).await?;
        Ok(self.wrote(removed))
    }

    async fn relationships(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<Relationship>> {
        batch(pairs, "pairs")?;
        self.store.relationships(pairs, self.now()).await
    }

    async fn followers(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.page(EdgeList::Followers, user, first, after).await
    }

    async fn following(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.page(EdgeList::Following, user, first, after).await
    }

    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        batch(users, "user_ids")?;
        self.store.counts(users).await
    }

    async fn mutual_follows(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.page(EdgeList::Mutual, user, first, after).await
    }

    async fn suggestions(&self, user: UserId, limit: u32) -> Result<Vec<Suggestion>> {
        self.store
            .suggestions(user, page_size(limit), self.now())
            .await
    }

    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        self.store.blocked_either_way(user).await
    }
}
