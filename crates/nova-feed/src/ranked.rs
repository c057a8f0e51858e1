//! The ranked side of reads: scoring candidates with nova-ranking and picking
//! out-of-network posts from nova-trending.

use std::collections::{HashMap, HashSet};

use nova_content::model::Post;
use nova_core::{PostId, Principal, Result, UserId};
use nova_ranking::{Candidate, PostKind, Source, Viewer};
use nova_trending::model::{EntityKind, Scope};

use crate::model::{FeedItem, FeedReason};
use crate::service::{FeedService, promotable};
use crate::store::Entry;

/// Moderation's reduced reach: reduced posts go below every post without it, in order
/// otherwise; the first `limit` stay.
fn demote(items: Vec<FeedItem>, limit: usize) -> Vec<FeedItem> {
    let (mut items, reduced): (Vec<FeedItem>, Vec<FeedItem>) =
        items.into_iter().partition(|i| !i.post.reach.reduced);
    items.extend(reduced);
    items.truncate(limit);
    items
}

impl FeedService {
    /// Orders posts with the ranker (newest first without one); scores when ranked.
    pub(crate) async fn rank(
        &self,
        viewer: UserId,
        follows: &[UserId],
        posts: Vec<(Post, FeedReason)>,
        limit: usize,
    ) -> Result<Vec<FeedItem>> {
        let Some(ranking) = &self.ranking else {
            let mut items: Vec<FeedItem> = posts
                .into_iter()
                .map(|(post, reason)| FeedItem {
                    post,
                    reason,
                    score: None,
                })
                .collect();
            items.sort_by_key(|i| std::cmp::Reverse(i.post.id));
            return Ok(demote(items, limit));
        };
        let mut authors: Vec<UserId> = posts.iter().map(|(p, _)| p.author_id).collect();
        authors.sort_unstable();
        authors.dedup();
        let counts: HashMap<UserId, u64> = self
            .graph
            .counts(&authors)
            .await?
            .into_iter()
            .map(|c| (c.user, c.followers))
            .collect();
        let candidates: Vec<Candidate> = posts
            .iter()
            .map(|(p, reason)| Candidate {
                post_id: p.id,
                author_id: p.author_id,
                created_at: p.created_at,
                kind: PostKind {
                    media: !p.media.is_empty(),
                    link: p
                        .facets
                        .iter()
                        .any(|f| matches!(f.kind, nova_content::facets::FacetKind::Link { .. })),
                    reply: p.reply_to.is_some(),
                    repost: false,
                },
                lang: p.language.clone(),
                author_followers: counts.get(&p.author_id).copied().unwrap_or(0),
                likes: u64::try_from(p.like_count).unwrap_or(0),
                replies: u64::try_from(p.reply_count).unwrap_or(0),
                velocity: 0.0,
                source: if *reason == FeedReason::Trending {
                    Source::OutOfNetwork
                } else {
                    Source::InNetwork
                },
            })
            .collect();
        let ranked_viewer = Viewer {
            user_id: viewer,
            follows: follows.iter().copied().collect(),
            ..Viewer::default()
        };
        // Every candidate is scored, so a demoted one can fall below the cut.
        let ranked = ranking
            .rank(&ranked_viewer, &candidates, candidates.len())
            .await?;
        let mut by_id: HashMap<PostId, (Post, FeedReason)> =
            posts.into_iter().map(|(p, r)| (p.id, (p, r))).collect();
        let items: Vec<FeedItem> = ranked
            .into_iter()
            .filter_map(|r| {
                by_id.remove(&r.post_id).map(|(post, reason)| FeedItem {
                    post,
                    reason,
                    score: Some(r.score),
                })
            })
            .collect();
        Ok(demote(items, limit))
    }

    /// Trending posts (ids), most engaged first.
    pub(crate) async fn trending_posts(&self, scope: Scope, limit: usize) -> Result<Vec<PostId>> {
        let Some(trending) = &self.trending else {
            return Ok(Vec::new());
        };
        Ok(trending
            .top(scope, "1h", limit)
            .await?
            .into_iter()
            .filter(|r| r.entity.kind == EntityKind::Post)
            .map(|r| PostId::from_uuid(nova_core::id::Uuid::from_u128(r.entity.id)))
            .collect())
    }

    /// A few trending posts by authors outside `network`, visible to the viewer.
    pub(crate) async fn out_of_network(
        &self,
        viewer: &Principal,
        network: &HashSet<UserId>,
        n: usize,
    ) -> Result<Vec<(Post, FeedReason)>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let ids = self.trending_posts(Scope::Global, n * 4).await?;
        // One batch read: content already checked the viewer may see each post; what is
        // left is the feed's own filter on the authors (blocks and mutes either way).
        let posts = self.content.posts(Some(viewer), &ids).await?;
        let entries: Vec<(Entry, FeedReason)> = posts
            .iter()
            .filter(|p| {
                !p.deleted
                    && p.author_id != viewer.user_id
                    && !network.contains(&p.author_id)
                    && promotable(Some(viewer.user_id), p)
            })
            .map(|p| (Entry::new(p.id, p.author_id), FeedReason::Trending))
            .collect();
        let keep: HashSet<PostId> = self
            .visible_entries(viewer.user_id, &entries, &posts)
            .await?
            .iter()
            .map(|(e, _)| e.post)
            .collect();
        Ok(posts
            .into_iter()
            .filter(|p| keep.contains(&p.id))
            .take(n)
            .map(|p| (p, FeedReason::Trending))
            .collect())
    }
}
