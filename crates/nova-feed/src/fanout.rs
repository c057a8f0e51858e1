//! The write side: hybrid fan-out on `post.created`, and keeping timelines consistent
//! with the graph (follow backfills, unfollow / block / mute remove, deletes vanish).
//!
//! [`FeedEvents`] is the [`EventHandler`] the feed consumes content's and the graph's
//! events with; wrap it in [`nova_events::idempotency::Idempotent`] to deduplicate by
//! event id (every effect here is also idempotent on its own: set writes and removals).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, PostId, Result, UserId};
use nova_events::{EventEnvelope, EventHandler};
use nova_graph::model::MAX_PAGE;
use nova_proto::nova::content::v1 as content_pb;
use nova_proto::nova::graph::v1 as graph_pb;
use prost::Message;

use crate::service::{FeedService, channel, hidden, reader};
use crate::store::{Entry, TimelineKey};

/// What a fan-out did (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FanOut {
    /// Home timelines written (the author's own included).
    pub delivered: usize,
    /// Followers skipped: they block or mute the author.
    pub skipped_hidden: usize,
    /// Followers skipped: no home read within the inactivity window.
    pub skipped_inactive: usize,
    /// The author has more followers than the threshold: pulled at read time instead.
    pub pulled: bool,
}

impl FeedService {
    /// Delivers a new post: into the author's own timeline, then into each active
    /// follower's who does not block or mute them — or, past the follower threshold,
    /// only into the author's list that followers pull from at read time.
    pub async fn fan_out(&self, post: PostId, author: UserId) -> Result<FanOut> {
        let entry = Entry::new(post, author);
        let cap = self.config.timeline_cap;
        let followers = self
            .graph
            .counts(&[author])
            .await?
            .first()
            .map_or(0, |c| c.followers);
        let pulled = followers > self.config.fanout_threshold;
        self.store.set_pulled(author, pulled).await?;
        let mut report = FanOut {
            pulled,
            ..FanOut::default()
        };
        if pulled {
            self.store
                .push(&[TimelineKey::Author(author)], entry, cap)
                .await?;
            self.store
                .push(&[TimelineKey::Home(author)], entry, cap)
                .await?;
            report.delivered = 1;
            return Ok(report);
        }
        self.store
            .push(&[TimelineKey::Home(author)], entry, cap)
            .await?;
        report.delivered = 1;
        let now = self.clock.now();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .graph
                .followers(author, MAX_PAGE, after.as_deref())
                .await?;
            let pairs: Vec<(UserId, UserId)> = page.items.iter().map(|f| (*f, author)).collect();
            let rels = self.graph.relationships(&pairs).await?;
            let visits = self.store.last_visits(&page.items).await?;
            let mut targets = Vec::with_capacity(page.items.len());
            for ((follower, rel), visit) in page.items.iter().zip(&rels).zip(visits) {
                if hidden(rel) {
                    report.skipped_hidden += 1;
                } else if visit.is_none_or(|t| now - t > self.config.inactive_after) {
                    report.skipped_inactive += 1;
                } else {
                    targets.push(*follower);
                }
            }
            let keys: Vec<TimelineKey> = targets.iter().map(|f| TimelineKey::Home(*f)).collect();
            self.store.push(&keys, entry, cap).await?;
            report.delivered += keys.len();
            // New-post notifications, concurrently (pipelined on one Redis connection).
            let payload = post.to_string();
            futures::future::try_join_all(targets.iter().map(|f| {
                let bytes = payload.clone().into_bytes();
                async move { self.pubsub.publish(&channel(*f), bytes).await }
            }))
            .await?;
            if !page.has_next_page {
                break;
            }
            after = page.end_cursor;
        }
        Ok(report)
    }

    /// Removes a deleted post from its author's lists and every follower's timeline.
    pub async fn remove_post(&self, post: PostId, author: UserId) -> Result<()> {
        let entry = Entry::new(post, author);
        self.store
            .remove(
                &[TimelineKey::Author(author), TimelineKey::Home(author)],
                entry,
            )
            .await?;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .graph
                .followers(author, MAX_PAGE, after.as_deref())
                .await?;
            let keys: Vec<TimelineKey> = page.items.iter().map(|f| TimelineKey::Home(*f)).collect();
            self.store.remove(&keys, entry).await?;
            if !page.has_next_page {
                return Ok(());
            }
            after = page.end_cursor;
        }
    }

    /// `follower` now follows `followee`: their recent posts join the timeline (unless
    /// the followee is pulled at read time anyway).
    pub async fn backfill(&self, follower: UserId, followee: UserId) -> Result<()> {
        if self
            .store
            .pulled(&[followee])
            .await?
            .first()
            .copied()
            .unwrap_or(false)
        {
            return Ok(());
        }
        let page = self
            .content
            .author_timeline(
                Some(&reader(follower)),
                followee,
                nova_content::TimelineKind::Posts,
                self.config.posts_per_author,
                None,
            )
            .await?;
        let entries: Vec<Entry> = page
            .items
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| Entry::new(p.id, p.author_id))
            .collect();
        self.store
            .insert(
                TimelineKey::Home(follower),
                &entries,
                self.config.timeline_cap,
            )
            .await
    }

    /// Removes `author`'s posts from `user`'s home timeline.
    pub async fn hide_author(&self, user: UserId, author: UserId) -> Result<()> {
        self.store
            .remove_author(TimelineKey::Home(user), author)
            .await
            .map(|_| ())
    }
}

fn decode<M: Message + Default>(event: &EventEnvelope) -> Result<M> {
    M::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not a {}: {e}", event.event_type)))
}

fn user(id: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(id, field)
}

/// The feed's event consumer: `post.created`, `post.deleted`, `follow.created`,
/// `follow.removed`, `block.created`, `mute.created`; other events are ignored.
#[derive(Clone)]
pub struct FeedEvents {
    feed: Arc<FeedService>,
}

impl FeedEvents {
    /// A handler over `feed`.
    pub fn new(feed: Arc<FeedService>) -> Self {
        Self { feed }
    }
}

#[async_trait]
impl EventHandler for FeedEvents {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        let feed = &self.feed;
        match event.event_type.as_str() {
            nova_events::types::POST_CREATED => {
                let e: content_pb::PostCreated = decode(event)?;
                // Replies live in threads, and mentioned-only posts are not for followers.
                if !e.reply_to_id.is_empty() || e.visibility == "mentioned" {
                    return Ok(());
                }
                let post = PostId::parse_field(&e.post_id, "post_id")?;
                feed.fan_out(post, user(&e.author_id, "author_id")?).await?;
            }
            nova_events::types::POST_DELETED => {
                let e: content_pb::PostDeleted = decode(event)?;
                let post = PostId::parse_field(&e.post_id, "post_id")?;
                feed.remove_post(post, user(&e.author_id, "author_id")?)
                    .await?;
            }
            nova_events::types::FOLLOW_CREATED => {
                let e: graph_pb::FollowCreated = decode(event)?;
                feed.backfill(
                    user(&e.follower_id, "follower_id")?,
                    user(&e.followee_id, "followee_id")?,
                )
                .await?;
            }
            nova_events::types::FOLLOW_REMOVED => {
                let e: graph_pb::FollowRemoved = decode(event)?;
                feed.hide_author(
                    user(&e.follower_id, "follower_id")?,
                    user(&e.followee_id, "followee_id")?,
                )
                .await?;
            }
            nova_events::types::BLOCK_CREATED => {
                let e: graph_pb::BlockCreated = decode(event)?;
                let (a, b) = (
                    user(&e.blocker_id, "blocker_id")?,
                    user(&e.blocked_id, "blocked_id")?,
                );
                feed.hide_author(a, b).await?;
                feed.hide_author(b, a).await?;
            }
            nova_events::types::MUTE_CREATED => {
                let e: graph_pb::MuteCreated = decode(event)?;
                if !e.reposts_only {
                    feed.hide_author(
                        user(&e.muter_id, "muter_id")?,
                        user(&e.muted_id, "muted_id")?,
                    )
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
