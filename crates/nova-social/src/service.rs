//! [`SocialService`]: the rules, over the graph, users and the social store.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::SubsecRound;
use nova_core::Page;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, Timestamp, UserId};
use nova_events::{EventEnvelope, RelayWaker};
use nova_graph::GraphApi;
use nova_kv::ReadCache;
use nova_proto::nova::social::v1 as events;
use nova_user::UserApi;
use prost::Message;

use crate::api::SocialApi;
use crate::model::{AuthorAccess, BlockList, BlockListId, FollowOutcome, FollowRequest};
use crate::store::SocialStore;

/// The social service.
pub struct SocialService {
    graph: Arc<dyn GraphApi>,
    users: Arc<dyn UserApi>,
    store: Arc<dyn SocialStore>,
    clock: SharedClock,
    relay: Option<RelayWaker>,
    /// `(viewer, target)` → a block list separates them (see [`Self::with_read_cache`]).
    listed: Option<Arc<ReadCache<(UserId, UserId), bool>>>,
}

impl SocialService {
    /// A service over its ports.
    pub fn new(
        graph: Arc<dyn GraphApi>,
        users: Arc<dyn UserApi>,
        store: Arc<dyn SocialStore>,
    ) -> Self {
        Self {
            graph,
            users,
            store,
            clock: SystemClock::shared(),
            relay: None,
            listed: None,
        }
    }

    /// Uses `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Wakes the outbox relay after commits with events.
    pub fn with_relay(mut self, relay: RelayWaker) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Keeps up to `capacity` block-list answers in memory (every interaction check asks
    /// one). Only for a process that is the sole writer of block lists (the embedded
    /// `nova`): list changes here drop the whole cache, other processes' changes would not.
    pub fn with_read_cache(mut self, capacity: u64) -> Self {
        self.listed = Some(Arc::new(ReadCache::new(capacity)));
        self
    }

    /// Which of `targets` a block list separates from `viewer`.
    async fn list_blocked(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<UserId>> {
        let Some(cache) = &self.listed else {
            return self.store.list_blocked(viewer, targets).await;
        };
        let mut listed = Vec::new();
        let mut missing = Vec::new();
        for t in targets {
            match cache.get(&(viewer, *t)) {
                Some(true) => listed.push(*t),
                Some(false) => {}
                None => missing.push(*t),
            }
        }
        if !missing.is_empty() {
            let ticket = cache.ticket();
            let found = self.store.list_blocked(viewer, &missing).await?;
            for t in missing {
                cache.fill(ticket, (viewer, t), found.contains(&t));
            }
            listed.extend(found);
        }
        Ok(listed)
    }

    /// After a block-list change: who it separates is not worth working out here.
    fn lists_changed(&self) {
        if let Some(cache) = &self.listed {
            cache.invalidate_all();
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    fn event(
        &self,
        event_type: &str,
        aggregate: impl ToString,
        payload: &impl Message,
    ) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            aggregate.to_string(),
            self.now(),
            payload.encode_to_vec(),
        )
    }

    fn request_event(&self, requester: UserId, target: UserId, state: &str) -> EventEnvelope {
        self.event(
            &format!("follow_request.{state}"),
            target,
            &events::FollowRequestChanged {
                requester_id: requester.to_string(),
                target_id: target.to_string(),
                state: state.to_owned(),
            },
        )
    }

    fn list_event(
        &self,
        list: BlockListId,
        actor: UserId,
        change: &str,
        user: Option<UserId>,
    ) -> EventEnvelope {
        self.event(
            "block_list.changed",
            list,
            &events::BlockListChanged {
                list_id: list.to_string(),
                actor_id: actor.to_string(),
                change: change.to_owned(),
                user_id: user.map(|u| u.to_string()).unwrap_or_default(),
            },
        )
    }

    fn wake(&self) {
        if let Some(relay) = &self.relay {
            relay.wake();
        }
    }

    /// `target` exists, is active, and may interact with `viewer`; otherwise the same
    /// `NotFound` a missing account gives.
    async fn reachable(&self, viewer: UserId, target: UserId) -> Result<()> {
        if viewer == target {
            return Err(Error::invalid("user_id", "cannot be yourself"));
        }
        if self.users.profiles(&[target]).await?.is_empty()
            || !self.can_interact(viewer, target).await?
        {
            return Err(Error::not_found());
        }
        Ok(())
    }

    async fn private(&self, user: UserId) -> Result<bool> {
        Ok(self
            .users
            .privacy(&[user])
            .await?
            .first()
            .is_some_and(|p| p.private_account))
    }

    /// Whether `viewer` may see `user`'s follower and following lists.
    async fn may_list(&self, viewer: Option<&Principal>, user: UserId) -> Result<()> {
        if self.users.profiles(&[user]).await?.is_empty() {
            return Err(Error::not_found());
        }
        let viewer_id = viewer.map(|p| p.user_id);
        if viewer_id == Some(user) {
            return Ok(());
        }
        let privacy = self.users.privacy(&[user]).await?;
        let hidden = privacy.first().is_some_and(|p| p.hide_follow_lists);
        if hidden || !self.can_view(viewer_id, user).await? {
            return Err(Error::not_found());
        }
        Ok(())
    }

    async fn owned_list(&self, principal: &Principal, list: BlockListId) -> Result<BlockList> {
        match self.store.list(list).await? {
            Some(l) if l.owner_id == principal.user_id => Ok(l),
            Some(_) => Err(Error::from_kind(ErrorKind::PermissionDenied)),
            None => Err(Error::not_found()),
        }
    }
}

fn bounded(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

#[async_trait]
impl SocialApi for SocialService {
    async fn follow(&self, principal: &Principal, target: UserId) -> Result<FollowOutcome> {
        let me = principal.user_id;
        self.reachable(me, target).await?;
        let rel = self.graph.relationships(&[(me, target)]).await?;
        if rel.first().is_some_and(|r| r.following) {
            return Ok(FollowOutcome::AlreadyFollowing);
        }
        if self.private(target).await? {
            let event = self.request_event(me, target, "created");
            self.store
                .add_request(me, target, self.now(), &[event])
                .await?;
            self.wake();
            return Ok(FollowOutcome::Requested);
        }
        self.graph.follow(me, target).await?;
        Ok(FollowOutcome::Following)
    }

    async fn unfollow(&self, principal: &Principal, target: UserId) -> Result<()> {
        let me = principal.user_id;
        let event = self.request_event(me, target, "cancelled");
        self.store.remove_request(me, target, &[event]).await?;
        self.graph.unfollow(me, target).await?;
        self.wake();
        Ok(())
    }

    async fn remove_follower(&self, principal: &Principal, follower: UserId) -> Result<()> {
        self.graph
            .unfollow(follower, principal.user_id)
            .await
            .map(|_| ())
    }

    async fn pending_requests(&self, principal: &Principal) -> Result<Vec<FollowRequest>> {
        self.store.pending_for(principal.user_id).await
    }

    async fn approve_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        let me = principal.user_id;
        let pending = self.store.pending_for(me).await?;
        if !pending.iter().any(|r| r.requester_id == requester) {
            return Err(Error::not_found());
        }
        if !self.can_interact(me, requester).await? {
            // A block since the request: it simply goes away.
            self.store.remove_request(requester, me, &[]).await?;
            return Err(Error::not_found());
        }
        // Follow first: a crash in between leaves a request whose approval is idempotent.
        self.graph.follow(requester, me).await?;
        let event = self.request_event(requester, me, "approved");
        self.store.remove_request(requester, me, &[event]).await?;
        self.wake();
        Ok(())
    }

    async fn deny_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        let event = self.request_event(requester, principal.user_id, "denied");
        if !self
            .store
            .remove_request(requester, principal.user_id, &[event])
            .await?
        {
            return Err(Error::not_found());
        }
        self.wake();
        Ok(())
    }

    async fn block(&self, principal: &Principal, target: UserId) -> Result<()> {
        let me = principal.user_id;
        if me == target {
            return Err(Error::invalid("user_id", "cannot be yourself"));
        }
        if self.users.profiles(&[target]).await?.is_empty() {
            return Err(Error::not_found());
        }
        // The graph ends follows both ways in its transaction; requests go too. Content
        // ends the reposts on the `block.created` event (its `BlockedPairs` consumer).
        self.graph.block(me, target).await?;
        self.store.remove_requests_between(me, target).await?;
        Ok(())
    }

    async fn unblock(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.graph
            .unblock(principal.user_id, target)
            .await
            .map(|_| ())
    }

    async fn mute(
        &self,
        principal: &Principal,
        target: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<()> {
        if until.is_some_and(|u| u <= self.now()) {
            return Err(Error::invalid("until", "must be in the future"));
        }
        self.reachable(principal.user_id, target).await?;
        self.graph
            .mute(principal.user_id, target, until, reposts_only)
            .await
            .map(|_| ())
    }

    async fn unmute(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.graph
            .unmute(principal.user_id, target)
            .await
            .map(|_| ())
    }

    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        Ok(self
            .can_interact_many(viewer, &[target])
            .await?
            .first()
            .copied()
            .unwrap_or(false))
    }

    async fn can_interact_many(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<bool>> {
        let pairs: Vec<(UserId, UserId)> = targets.iter().map(|t| (viewer, *t)).collect();
        let relationships = self.graph.relationships(&pairs).await?;
        let listed = self.list_blocked(viewer, targets).await?;
        Ok(targets
            .iter()
            .map(|t| {
                let blocked = relationships
                    .iter()
                    .any(|r| r.to == *t && r.blocked_either_way());
                *t == viewer || (!blocked && !listed.contains(t))
            })
            .collect())
    }

    async fn author_access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<AuthorAccess>> {
        if authors.is_empty() {
            return Ok(Vec::new());
        }
        let privacy = self.users.privacy(authors).await?;
        let private = |a: UserId| privacy.iter().any(|p| p.user_id == a && p.private_account);
        let active: Vec<UserId> = self
            .users
            .profiles(authors)
            .await?
            .iter()
            .map(|p| p.user_id)
            .collect();
        let exists = |a: UserId| active.contains(&a);
        let Some(viewer) = viewer else {
            return Ok(authors
                .iter()
                .map(|a| AuthorAccess {
                    author: *a,
                    exists: exists(*a),
                    can_interact: true,
                    viewer_follows: false,
                    author_follows_viewer: false,
                    author_private: private(*a),
                    viewer_blocks: false,
                    blocked_by_author: false,
                    viewer_mutes: false,
                    mutes_reposts_only: false,
                })
                .collect());
        };
        // One graph lookup answers blocks and follows both ways.
        let pairs: Vec<(UserId, UserId)> = authors.iter().map(|a| (viewer, *a)).collect();
        let relationships = self.graph.relationships(&pairs).await?;
        let listed = self.list_blocked(viewer, authors).await?;
        Ok(authors
            .iter()
            .map(|a| {
                let rel = relationships.iter().find(|r| r.to == *a);
                let blocked = rel.is_some_and(|r| r.blocked_either_way());
                AuthorAccess {
                    author: *a,
                    exists: exists(*a),
                    can_interact: *a == viewer || (!blocked && !listed.contains(a)),
                    viewer_follows: rel.is_some_and(|r| r.following),
                    author_follows_viewer: rel.is_some_and(|r| r.followed_by),
                    author_private: private(*a),
                    viewer_blocks: rel.is_some_and(|r| r.blocking),
                    blocked_by_author: rel.is_some_and(|r| r.blocked_by),
                    viewer_mutes: rel.is_some_and(|r| r.muting),
                    mutes_reposts_only: rel.is_some_and(|r| r.muting_reposts_only),
                }
            })
            .collect())
    }

    async fn can_view(&self, viewer: Option<UserId>, author: UserId) -> Result<bool> {
        match viewer {
            Some(v) if v == author => Ok(true),
            Some(v) => {
                if !self.can_interact(v, author).await? {
                    return Ok(false);
                }
                if !self.private(author).await? {
                    return Ok(true);
                }
                let rel = self.graph.relationships(&[(v, author)]).await?;
                Ok(rel.first().is_some_and(|r| r.following))
            }
            None => Ok(!self.private(author).await?),
        }
    }

    async fn followers(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.may_list(viewer, user).await?;
        self.graph.followers(user, first, after).await
    }

    async fn following(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.may_list(viewer, user).await?;
        self.graph.following(user, first, after).await
    }

    async fn create_block_list(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<BlockList> {
        let name = bounded("name", name, 100)?;
        if name.is_empty() {
            return Err(Error::invalid("name", "is required"));
        }
        let list = BlockList {
            id: BlockListId::new(),
            owner_id: principal.user_id,
            name,
            description: bounded("description", description, 500)?,
            created_at: self.now(),
        };
        let event = self.list_event(list.id, principal.user_id, "created", None);
        self.store.create_list(&list, &[event]).await?;
        self.wake();
        Ok(list)
    }

    async fn add_to_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        self.owned_list(principal, list).await?;
        if user == principal.user_id {
            return Err(Error::invalid("user_id", "cannot be yourself"));
        }
        if self.users.profiles(&[user]).await?.is_empty() {
            return Err(Error::not_found());
        }
        let event = self.list_event(list, principal.user_id, "entry_added", Some(user));
        let result = self.store.add_entry(list, user, self.now(), &[event]).await;
        self.lists_changed();
        result?;
        self.wake();
        Ok(())
    }

    async fn remove_from_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        self.owned_list(principal, list).await?;
        let event = self.list_event(list, principal.user_id, "entry_removed", Some(user));
        let result = self.store.remove_entry(list, user, &[event]).await;
        self.lists_changed();
        result?;
        self.wake();
        Ok(())
    }

    async fn subscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        if self.store.list(list).await?.is_none() {
            return Err(Error::not_found());
        }
        let event = self.list_event(list, principal.user_id, "subscribed", None);
        let result = self
            .store
            .subscribe(list, principal.user_id, self.now(), &[event])
            .await;
        self.lists_changed();
        result?;
        self.wake();
        Ok(())
    }

    async fn unsubscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        let event = self.list_event(list, principal.user_id, "unsubscribed", None);
        let result = self
            .store
            .unsubscribe(list, principal.user_id, &[event])
            .await;
        self.lists_changed();
        result?;
        self.wake();
        Ok(())
    }
}
