//! Feeds and trends.

use async_graphql::{Context, Object, SimpleObject};
use nova_core::id::Uuid;
use nova_core::{PostId, UserId};
use nova_feed::FeedPage;
use nova_trending::EntityKey;

use super::{FeedReason, Post, TrendKind, User, load_user};
use crate::context::{caller, loaders};
use crate::error::{GqlResult, IntoGql};
use crate::paging::{PageInfo, PageRequest};

/// A page of a feed.
#[derive(SimpleObject)]
pub(crate) struct FeedConnection {
    /// The posts, in display order, with why they are there.
    pub edges: Vec<FeedEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// One feed entry.
#[derive(SimpleObject)]
pub(crate) struct FeedEdge {
    /// Resume after this entry.
    pub cursor: String,
    /// The post.
    pub node: Post,
    /// Why it is in the feed.
    pub reason: FeedReason,
    /// The ranker's score (ranked feeds only).
    pub score: Option<f64>,
}

impl FeedConnection {
    /// From a feed page (fetched with `req.fetch()`), priming the post loader.
    pub async fn from_page(
        ctx: &Context<'_>,
        req: &PageRequest,
        page: FeedPage,
    ) -> GqlResult<Self> {
        let has_next = page.next_cursor.is_some();
        let window = req.window(page.items, page.next_cursor, has_next);
        super::prime(ctx, window.edges.iter().map(|(_, item)| &item.post)).await?;
        Ok(Self {
            edges: window
                .edges
                .into_iter()
                .map(|(cursor, item)| FeedEdge {
                    cursor,
                    reason: item.reason.into(),
                    score: item.score,
                    node: Post(item.post),
                })
                .collect(),
            page_info: window.page_info,
        })
    }
}

/// Something trending, or among the most engaged-with.
pub(crate) struct TrendingItem {
    pub entity: EntityKey,
    pub score: f64,
    pub observed_per_hour: Option<f64>,
    pub expected_per_hour: Option<f64>,
    pub accounts: Option<u64>,
    pub label: Option<String>,
}

#[Object]
impl TrendingItem {
    /// What it is about.
    async fn kind(&self) -> TrendKind {
        self.entity.kind.into()
    }
    /// The entity's id (hex; a hash for hashtags and links).
    async fn entity_id(&self) -> String {
        self.entity.id_hex()
    }
    /// The hashtag (without `#`) or link, when known.
    async fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    /// Whether this is the hashtag `tag` (`#` optional, any case).
    async fn is_hashtag(&self, tag: String) -> bool {
        EntityKey::hashtag(&tag) == self.entity
    }
    /// Trend score (unusual growth) or decayed engagement (top lists).
    async fn score(&self) -> f64 {
        self.score
    }
    /// Observed weighted activity per hour (trends only).
    async fn observed_per_hour(&self) -> Option<f64> {
        self.observed_per_hour
    }
    /// Expected activity per hour (trends only).
    async fn expected_per_hour(&self) -> Option<f64> {
        self.expected_per_hour
    }
    /// Distinct accounts engaging (trends only).
    async fn accounts(&self) -> Option<u64> {
        self.accounts
    }
    /// The post, when this is a post the viewer may see.
    async fn post(&self, ctx: &Context<'_>) -> GqlResult<Option<Post>> {
        if self.entity.kind != nova_trending::EntityKind::Post {
            return Ok(None);
        }
        let id = PostId::from(Uuid::from_u128(self.entity.id));
        Ok(loaders(ctx)?.posts.load_one(id).await?.map(Post))
    }
    /// The author, when this is a creator the viewer may see.
    async fn user(&self, ctx: &Context<'_>) -> GqlResult<Option<User>> {
        if self.entity.kind != nova_trending::EntityKind::Creator {
            return Ok(None);
        }
        load_user(ctx, UserId::from(Uuid::from_u128(self.entity.id))).await
    }
}

/// Trends (no `window`) or the top of a window, with labels where the domain knows them.
pub(crate) async fn trending(
    ctx: &Context<'_>,
    scope: &str,
    window: Option<&str>,
    first: usize,
) -> GqlResult<Vec<TrendingItem>> {
    let call = caller(ctx)?;
    let scope = nova_trending::Scope::parse(scope).gql()?;
    let trending = &call.domains.trending;
    // Room for the posts moderation keeps out (see below).
    let fetch = first * 2;
    let mut items: Vec<TrendingItem> = match window {
        None => trending
            .trends(scope, fetch)
            .await
            .gql()?
            .into_iter()
            .map(|t| TrendingItem {
                entity: t.entity,
                score: t.score,
                observed_per_hour: Some(t.observed_per_hour),
                expected_per_hour: Some(t.expected_per_hour),
                accounts: Some(t.accounts),
                label: None,
            })
            .collect(),
        Some(window) => trending
            .top(scope, window, fetch)
            .await
            .gql()?
            .into_iter()
            .map(|r| TrendingItem {
                entity: r.entity,
                score: r.score,
                observed_per_hour: None,
                expected_per_hour: None,
                accounts: None,
                label: None,
            })
            .collect(),
    };
    // Posts the viewer may not read (hidden, removed, a suspended author...) and posts
    // moderation keeps out of trending (reduced reach; a silenced author's, for
    // non-followers) are left out.
    let post_of = |i: &TrendingItem| {
        (i.entity.kind == nova_trending::EntityKind::Post)
            .then(|| PostId::from(Uuid::from_u128(i.entity.id)))
    };
    let ids: Vec<PostId> = items.iter().filter_map(post_of).collect();
    if !ids.is_empty() {
        let found = loaders(ctx)?.posts.load_many(ids).await?;
        let me = call.principal.as_ref().map(|p| p.user_id);
        items.retain(|i| {
            post_of(i).is_none_or(|id| {
                found.get(&id).is_some_and(|p| {
                    let follows = p.access.is_some_and(|a| a.viewer_follows);
                    !p.deleted && p.reach.promotable(me, p.author_id, follows)
                })
            })
        });
    }
    items.truncate(first);
    if let Some(labels) = &call.domains.trend_labels {
        let keys: Vec<EntityKey> = items.iter().map(|i| i.entity).collect();
        let found = labels.labels(&keys).await.gql()?;
        for (item, label) in items.iter_mut().zip(found) {
            item.label = label;
        }
    }
    Ok(items)
}
