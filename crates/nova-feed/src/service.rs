//! [`FeedService`]: the read side of the feed (home, catch-up, explore, new posts) and
//! the rebuild of lost timelines. The write side (fan-out and graph consistency) is in
//! [`crate::fanout`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use futures::stream::{self, BoxStream, StreamExt};
use nova_content::ContentApi;
use nova_content::TimelineKind;
use nova_content::model::Post;
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, Result, SharedClock, Timestamp, UserId};
use nova_graph::GraphApi;
use nova_graph::model::{MAX_BATCH, MAX_PAGE, Relationship};
use nova_kv::PubSub;
use nova_ranking::RankingApi;
use nova_trending::TrendingApi;
use nova_trending::model::Scope;
use serde::{Deserialize, Serialize};

use crate::api::FeedApi;
use crate::model::{FeedItem, FeedMode, FeedPage, FeedReason};
use crate::store::{Entry, TimelineKey, TimelineStore};

/// Feed settings (`FEED_*` variables, see [`crate::FEED_ENV_VARS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Authors with more followers than this are pulled at read time, not fanned out.
    pub fanout_threshold: u64,
    /// Entries kept per home timeline.
    pub timeline_cap: usize,
    /// Followers with no home read for this long are skipped by fan-out and get a
    /// rebuild when they return.
    pub inactive_after: Duration,
    /// Followees (newest follows first) read when rebuilding a timeline from SQL.
    pub rebuild_followees: usize,
    /// Recent posts per followee taken into a rebuilt timeline or a follow's backfill.
    pub posts_per_author: u32,
    /// Out-of-network (trending) posts mixed into the first ranked page.
    pub out_of_network: usize,
    /// Followees scanned per read for authors pulled at read time.
    pub max_following_scan: usize,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            fanout_threshold: 10_000,
            timeline_cap: 800,
            inactive_after: Duration::days(30),
            rebuild_followees: 300,
            posts_per_author: 20,
            out_of_network: 3,
            max_following_scan: 2_000,
        }
    }
}

/// The feed domain over its ports. Cheap to share behind an `Arc`.
pub struct FeedService {
    pub(crate) store: Arc<dyn TimelineStore>,
    pub(crate) content: Arc<dyn ContentApi>,
    pub(crate) graph: Arc<dyn GraphApi>,
    pub(crate) ranking: Option<Arc<dyn RankingApi>>,
    pub(crate) trending: Option<Arc<dyn TrendingApi>>,
    pub(crate) pubsub: Arc<dyn PubSub>,
    pub(crate) clock: SharedClock,
    cursors: CursorCodec,
    pub(crate) config: FeedConfig,
}

/// Where the next page of a home timeline starts: strictly below this post.
#[derive(Serialize, Deserialize)]
struct HomeCursor {
    b: PostId,
}

/// An offset into explore's trending list.
#[derive(Serialize, Deserialize)]
struct ExploreCursor {
    o: usize,
}

/// The pub/sub channel of posts entering `user`'s home timeline.
pub(crate) fn channel(user: UserId) -> String {
    format!("feed:new:{user}")
}

/// The feed itself reading content on `user`'s behalf (backfill and rebuild): a service
/// principal that sees what `user` may see, never a made-up user session.
pub(crate) fn reader(user: UserId) -> Principal {
    Principal::acting_for(FEED_SERVICE, user)
}

/// The name the feed acts under.
pub const FEED_SERVICE: &str = "feed-service";

/// Whether `rel.from` must not see `rel.to`'s posts at all (block either way, or a
/// mute of more than reposts).
/// The most posts content hydrates in one read.
const MAX_POSTS_PER_READ: usize = 200;

/// Whether moderation lets `post` be pushed to `viewer` as trending or explore
/// material (not reduced; a silenced author's posts only to followers).
pub(crate) fn promotable(viewer: Option<UserId>, post: &Post) -> bool {
    let follows = post.access.is_some_and(|a| a.viewer_follows);
    post.reach.promotable(viewer, post.author_id, follows)
}

pub(crate) fn hidden(rel: &Relationship) -> bool {
    rel.blocking || rel.blocked_by || (rel.muting && !rel.muting_reposts_only)
}

impl FeedService {
    /// A feed over `store`, reading posts from `content` and edges from `graph`.
    pub fn new(
        store: Arc<dyn TimelineStore>,
        content: Arc<dyn ContentApi>,
        graph: Arc<dyn GraphApi>,
        pubsub: Arc<dyn PubSub>,
        clock: SharedClock,
        cursors: CursorCodec,
    ) -> Self {
        Self {
            store,
            content,
            graph,
            ranking: None,
            trending: None,
            pubsub,
            clock,
            cursors,
            config: FeedConfig::default(),
        }
    }

    /// Ranks `Ranked` reads and catch-up with `ranking` (else newest first).
    pub fn with_ranking(mut self, ranking: Arc<dyn RankingApi>) -> Self {
        self.ranking = Some(ranking);
        self
    }

    /// Takes out-of-network and explore posts from `trending`.
    pub fn with_trending(mut self, trending: Arc<dyn TrendingApi>) -> Self {
        self.trending = Some(trending);
        self
    }

    /// Changes the settings.
    pub fn with_config(mut self, config: FeedConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings.
    pub fn config(&self) -> &FeedConfig {
        &self.config
    }

    /// The timeline store.
    pub fn store(&self) -> &Arc<dyn TimelineStore> {
        &self.store
    }

    /// Whom `user` follows, newest follow first, at most `limit`.
    pub(crate) async fn following(&self, user: UserId, limit: usize) -> Result<Vec<UserId>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .graph
                .following(user, MAX_PAGE, after.as_deref())
                .await?;
            out.extend(page.items);
            if !page.has_next_page || out.len() >= limit {
                break;
            }
            after = page.end_cursor;
        }
        out.truncate(limit);
        Ok(out)
    }

    /// An author's recent top-level posts as `viewer` may see them.
    async fn author_posts(&self, viewer: UserId, author: UserId, n: u32) -> Result<Vec<Entry>> {
        let page = self
            .content
            .author_timeline(Some(&reader(viewer)), author, TimelineKind::Posts, n, None)
            .await?;
        Ok(page
            .items
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| Entry::new(p.id, p.author_id))
            .collect())
    }

    /// Rebuilds `viewer`'s home timeline from SQL: the recent posts of the accounts they
    /// follow (except pulled ones, merged at read time) and their own.
    pub async fn rebuild_home(&self, viewer: UserId) -> Result<()> {
        let followees = self
            .following(viewer, self.config.rebuild_followees)
            .await?;
        let pulled = self.store.pulled(&followees).await?;
        let mut authors: Vec<UserId> = followees
            .into_iter()
            .zip(pulled)
            .filter(|(_, p)| !p)
            .map(|(a, _)| a)
            .collect();
        authors.push(viewer);
        let n = self.config.posts_per_author;
        let lists: Vec<Result<Vec<Entry>>> = stream::iter(authors)
            .map(|a| self.author_posts(viewer, a, n))
            .buffer_unordered(8)
            .collect()
            .await;
        let mut entries = Vec::new();
        for list in lists {
            entries.extend(list?);
        }
        self.store
            .rebuild(
                TimelineKey::Home(viewer),
                &entries,
                self.config.timeline_cap,
            )
            .await
    }

    /// A page of a timeline, rebuilt from SQL first when it is absent.
    async fn timeline_page(
        &self,
        viewer: UserId,
        key: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Vec<Entry>> {
        if let Some(page) = self.store.page(key, before, limit).await? {
            return Ok(page);
        }
        match key {
            TimelineKey::Home(user) => self.rebuild_home(user).await?,
            TimelineKey::Author(author) => {
                let n = u32::try_from(self.config.timeline_cap.min(100)).unwrap_or(100);
                let entries = self.author_posts(viewer, author, n).await?;
                self.store
                    .rebuild(key, &entries, self.config.timeline_cap)
                    .await?;
            }
        }
        Ok(self
            .store
            .page(key, before, limit)
            .await?
            .unwrap_or_default())
    }

    /// Viewer-to-author relationships for many authors, in batches.
    async fn relationships(
        &self,
        viewer: UserId,
        authors: &[UserId],
    ) -> Result<HashMap<UserId, Relationship>> {
        let mut out = HashMap::with_capacity(authors.len());
        for chunk in authors.chunks(MAX_BATCH) {
            let pairs: Vec<(UserId, UserId)> = chunk.iter().map(|a| (viewer, *a)).collect();
            for rel in self.graph.relationships(&pairs).await? {
                out.insert(rel.to, rel);
            }
        }
        Ok(out)
    }

    /// Hydrates entries in batch reads (deleted and invisible posts drop out), then
    /// filters them at read time (blocked, muted, unfollowed authors) with the access
    /// answer content hydrated them with, and keeps order.
    pub(crate) async fn hydrate(
        &self,
        viewer: &Principal,
        entries: &[(Entry, FeedReason)],
    ) -> Result<Vec<(Post, FeedReason)>> {
        let ids: Vec<PostId> = entries.iter().map(|(e, _)| e.post).collect();
        let mut posts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_POSTS_PER_READ) {
            posts.extend(self.content.posts(Some(viewer), chunk).await?);
        }
        // Only entries content returned can appear; their authors' access came with them.
        let present: HashSet<PostId> = posts.iter().map(|p| p.id).collect();
        let hydrated: Vec<(Entry, FeedReason)> = entries
            .iter()
            .filter(|(e, _)| present.contains(&e.post))
            .cloned()
            .collect();
        let keep = self
            .visible_entries(viewer.user_id, &hydrated, &posts)
            .await?;
        let reasons: HashMap<PostId, FeedReason> = keep.iter().map(|(e, r)| (e.post, *r)).collect();
        Ok(posts
            .into_iter()
            .filter(|p| !p.deleted)
            .filter_map(|p| reasons.get(&p.id).map(|r| (*r, p)))
            .map(|(r, p)| (p, r))
            .collect())
    }

    /// The entries whose author may appear in `me`'s feed: their own, and others' unless
    /// blocked or muted (either way) or no longer followed (trending ones need no follow).
    /// The relationships come from the access answer `hydrated` posts carry (social
    /// answered it for `me` when content read them); only authors without one are asked
    /// of the graph.
    pub(crate) async fn visible_entries<'e>(
        &self,
        me: UserId,
        entries: &'e [(Entry, FeedReason)],
        hydrated: &[Post],
    ) -> Result<Vec<&'e (Entry, FeedReason)>> {
        let mut rels: HashMap<UserId, Relationship> = hydrated
            .iter()
            .filter_map(|p| p.access.map(|a| (a.author, a.relationship(me))))
            .collect();
        let mut missing: Vec<UserId> = entries
            .iter()
            .map(|(e, _)| e.author)
            .filter(|a| *a != me && !rels.contains_key(a))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        rels.extend(self.relationships(me, &missing).await?);
        Ok(entries
            .iter()
            .filter(|(e, reason)| {
                if e.author == me {
                    return true;
                }
                rels.get(&e.author).is_some_and(|rel| {
                    !hidden(rel) && (rel.following || *reason == FeedReason::Trending)
                })
            })
            .collect())
    }

    /// Followed authors that are pulled at read time.
    async fn pulled_followees(&self, viewer: UserId) -> Result<(Vec<UserId>, Vec<UserId>)> {
        let following = self
            .following(viewer, self.config.max_following_scan)
            .await?;
        let pulled = self.store.pulled(&following).await?;
        let celebs = following
            .iter()
            .zip(pulled)
            .filter(|(_, p)| *p)
            .map(|(a, _)| *a)
            .collect();
        Ok((following, celebs))
    }

    /// Up to `n` visible posts of the merged home sources strictly below `before`,
    /// newest first, and the cursor after them (`None` when the sources are exhausted).
    async fn collect(
        &self,
        viewer: &Principal,
        celebs: &[UserId],
        mut before: Option<PostId>,
        n: usize,
    ) -> Result<(Vec<(Post, FeedReason)>, Option<PostId>)> {
        let me = viewer.user_id;
        let batch = (n * 2).max(20);
        let mut keys = vec![(TimelineKey::Home(me), FeedReason::Following)];
        keys.extend(
            celebs
                .iter()
                .map(|c| (TimelineKey::Author(*c), FeedReason::Popular)),
        );
        let mut out: Vec<(Post, FeedReason)> = Vec::new();
        for _round in 0..8 {
            // A k-way merge page: entries at or above `boundary` are complete.
            let mut merged: Vec<(Entry, FeedReason)> = Vec::new();
            let mut boundary: Option<PostId> = None;
            for (key, reason) in &keys {
                let page = self.timeline_page(me, *key, before, batch).await?;
                if page.len() == batch
                    && let Some(last) = page.last()
                {
                    boundary = Some(boundary.map_or(last.post, |b: PostId| b.max(last.post)));
                }
                merged.extend(page.into_iter().map(|e| (e, *reason)));
            }
            merged.sort_unstable_by_key(|m| std::cmp::Reverse(m.0));
            merged.dedup_by_key(|(e, _)| e.post);
            if let Some(b) = boundary {
                merged.retain(|(e, _)| e.post >= b);
            }
            let exhausted = boundary.is_none();
            let last_seen = merged.last().map(|(e, _)| e.post);
            for item in self.hydrate(viewer, &merged).await? {
                out.push(item);
                if out.len() == n {
                    let cursor = out.last().map(|(p, _)| p.id);
                    let at_end = exhausted && cursor == last_seen;
                    return Ok((out, cursor.filter(|_| !at_end)));
                }
            }
            if exhausted {
                return Ok((out, None));
            }
            before = boundary;
        }
        Ok((out, before))
    }

    fn is_inactive(&self, last: Option<Timestamp>, now: Timestamp) -> bool {
        last.is_none_or(|t| now - t > self.config.inactive_after)
    }
}

#[async_trait]
impl FeedApi for FeedService {
    async fn home(
        &self,
        viewer: &Principal,
        mode: FeedMode,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        let me = viewer.user_id;
        let first = if first == 0 { 20 } else { first.min(MAX_PAGE) } as usize;
        let before = self.cursors.decode_opt::<HomeCursor>(after)?.map(|c| c.b);
        let now = self.clock.now();
        let previous = self.store.visit(me, now).await?;
        if before.is_none() && self.is_inactive(previous, now) {
            // A returning (or unknown) reader: fan-out skipped them, so rebuild.
            self.rebuild_home(me).await?;
        }
        let (following, celebs) = self.pulled_followees(me).await?;
        let network: HashSet<UserId> = following.iter().copied().collect();
        let oon = match (mode, before) {
            (FeedMode::Ranked, None) => {
                let n = self.config.out_of_network.min(first / 4);
                self.out_of_network(viewer, &network, n).await?
            }
            _ => Vec::new(),
        };
        let (posts, next) = self
            .collect(viewer, &celebs, before, first - oon.len())
            .await?;
        let next_cursor = next
            .map(|b| self.cursors.encode(&HomeCursor { b }))
            .transpose()?;
        let items = match mode {
            FeedMode::Chronological => posts
                .into_iter()
                .map(|(post, reason)| FeedItem {
                    post,
                    reason,
                    score: None,
                })
                .collect(),
            FeedMode::Ranked => {
                let mut all = posts;
                all.extend(oon);
                let n = all.len();
                self.rank(me, &following, all, n).await?
            }
        };
        Ok(FeedPage { items, next_cursor })
    }

    async fn catch_up(&self, viewer: &Principal, first: u32) -> Result<FeedPage> {
        let me = viewer.user_id;
        let first = if first == 0 { 20 } else { first.min(MAX_PAGE) } as usize;
        let now = self.clock.now();
        let since = self.store.last_visits(&[me]).await?.pop().flatten();
        let since = since.unwrap_or(now - Duration::days(1));
        let (following, celebs) = self.pulled_followees(me).await?;
        let (posts, _) = self.collect(viewer, &celebs, None, 200).await?;
        let missed: Vec<(Post, FeedReason)> = posts
            .into_iter()
            .filter(|(p, _)| p.created_at > since && p.author_id != me)
            .collect();
        let items = self.rank(me, &following, missed, first).await?;
        Ok(FeedPage {
            items,
            next_cursor: None,
        })
    }

    async fn explore(
        &self,
        viewer: Option<&Principal>,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        let first = if first == 0 { 20 } else { first.min(MAX_PAGE) } as usize;
        let offset = self
            .cursors
            .decode_opt::<ExploreCursor>(after)?
            .map_or(0, |c| c.o);
        let ids = self.trending_posts(Scope::Global, 500).await?;
        let window: Vec<PostId> = ids.iter().skip(offset).take(first).copied().collect();
        let end = offset + window.len();
        let posts = self.content.posts(viewer, &window).await?;
        let posts: Vec<Post> = match viewer {
            Some(v) => {
                let entries: Vec<(Entry, FeedReason)> = posts
                    .iter()
                    .map(|p| (Entry::new(p.id, p.author_id), FeedReason::Trending))
                    .collect();
                self.hydrate(v, &entries)
                    .await?
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect()
            }
            None => posts.into_iter().filter(|p| !p.deleted).collect(),
        };
        // Moderation: reduced posts and silenced authors' posts (to non-followers) are
        // not explore material.
        let me = viewer.map(|v| v.user_id);
        let posts: Vec<Post> = posts.into_iter().filter(|p| promotable(me, p)).collect();
        let next_cursor = (end < ids.len())
            .then(|| self.cursors.encode(&ExploreCursor { o: end }))
            .transpose()?;
        Ok(FeedPage {
            items: posts
                .into_iter()
                .map(|post| FeedItem {
                    post,
                    reason: FeedReason::Trending,
                    score: None,
                })
                .collect(),
            next_cursor,
        })
    }

    async fn new_posts(&self, viewer: &Principal) -> Result<BoxStream<'static, PostId>> {
        let messages = self.pubsub.subscribe(&channel(viewer.user_id)).await?;
        Ok(messages
            .filter_map(|m| async move {
                std::str::from_utf8(&m.payload)
                    .ok()
                    .and_then(|s| s.parse::<PostId>().ok())
            })
            .boxed())
    }
}
