//! `Post` and post connections.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use nova_content::facets::FacetKind;
use nova_content::{MediaAttachment, NewPost, Post as DomainPost};
use nova_core::{PostId, Timestamp};

use super::{ReplyPolicy, User, Visibility, load_user};
use crate::context::{caller, loaders};
use crate::error::{GqlResult, IntoGql};
use crate::paging::{PageInfo, PageRequest};

/// A post, reply or quote, as the viewer may see it.
pub(crate) struct Post(pub DomainPost);

#[Object]
impl Post {
    /// The post id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Impressions, reach and engagement, for the post's author only (null for anyone
    /// else, signed out, or where analytics is not served).
    async fn insights(&self, ctx: &Context<'_>) -> GqlResult<Option<super::PostInsights>> {
        super::post_insights(ctx, &self.0.id.to_string()).await
    }
    /// The text (empty for a deleted post's tombstone).
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Hashtags, lowercased, without `#`.
    async fn hashtags(&self) -> Vec<&str> {
        self.0
            .facets
            .iter()
            .filter_map(|f| match &f.kind {
                FacetKind::Hashtag { tag } => Some(tag.as_str()),
                _ => None,
            })
            .collect()
    }
    /// Mentioned usernames, as written.
    async fn mentions(&self) -> Vec<&str> {
        self.0
            .facets
            .iter()
            .filter_map(|f| match &f.kind {
                FacetKind::Mention { username, .. } => Some(username.as_str()),
                _ => None,
            })
            .collect()
    }
    /// Who may see it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// Who may reply.
    async fn reply_policy(&self) -> ReplyPolicy {
        self.0.reply_policy.into()
    }
    /// Whether others may quote it.
    async fn quotes_allowed(&self) -> bool {
        self.0.quotes_allowed
    }
    /// Content warning.
    async fn content_warning(&self) -> Option<&str> {
        self.0.content_warning.as_deref()
    }
    /// Labels moderators put on the post (`sensitive`, `spoiler`, `misleading`), for
    /// every reader; clients show them like a content warning.
    async fn labels(&self) -> &[String] {
        &self.0.labels
    }
    /// Language code.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
    /// Reply depth (0 for a top-level post).
    async fn depth(&self) -> i32 {
        self.0.depth
    }
    /// Likes.
    async fn like_count(&self) -> i64 {
        self.0.like_count
    }
    /// Replies.
    async fn reply_count(&self) -> i64 {
        self.0.reply_count
    }
    /// Quotes.
    async fn quote_count(&self) -> i64 {
        self.0.quote_count
    }
    /// Created.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
    /// Last edited.
    async fn edited_at(&self) -> Option<Timestamp> {
        self.0.edited_at
    }
    /// A deleted post's tombstone.
    async fn deleted(&self) -> bool {
        self.0.deleted
    }
    /// The viewer liked it.
    async fn liked_by_viewer(&self) -> bool {
        self.0.liked_by_viewer
    }
    /// The viewer bookmarked it.
    async fn bookmarked_by_viewer(&self) -> bool {
        self.0.bookmarked_by_viewer
    }
    /// Attached images (up to 4) or video, in the author's order, with the alt text the
    /// post gave each. Uploads deleted since are left out.
    async fn media(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::Media>> {
        if self.0.media.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<nova_core::MediaId> = self.0.media.iter().map(|m| m.media_id).collect();
        let mut found = loaders(ctx)?.media.load_many(ids).await?;
        Ok(self
            .0
            .media
            .iter()
            .filter_map(|a| {
                found.remove(&a.media_id).map(|media| super::Media {
                    media,
                    alt_text: Some(a.alt_text.clone()),
                })
            })
            .collect())
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Option<User>> {
        load_user(ctx, self.0.author_id).await
    }
    /// Whether the viewer follows the author (`null` when signed out).
    async fn viewer_follows_author(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        let rel = loaders(ctx)?
            .relationships
            .load_one(self.0.author_id)
            .await?;
        Ok(rel.map(|r| r.following))
    }
    /// The post this replies to, if the viewer may see it.
    async fn reply_to(&self, ctx: &Context<'_>) -> GqlResult<Option<Post>> {
        load_post(ctx, self.0.reply_to).await
    }
    /// The thread's root, if the viewer may see it.
    async fn root(&self, ctx: &Context<'_>) -> GqlResult<Option<Post>> {
        load_post(ctx, self.0.root_id).await
    }
    /// The quoted post, if the viewer may see it.
    async fn quote_of(&self, ctx: &Context<'_>) -> GqlResult<Option<Post>> {
        load_post(ctx, self.0.quote_of).await
    }
    /// The replies under this post (as a thread root), in order.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<PostConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .content
            .thread(
                call.principal.as_ref(),
                self.0.id,
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        PostConnection::from_page(ctx, &req, page).await
    }
    /// Earlier versions of the text.
    async fn edit_history(&self, ctx: &Context<'_>) -> GqlResult<Vec<PostEdit>> {
        let call = caller(ctx)?;
        let edits = call
            .domains
            .content
            .edit_history(call.principal.as_ref(), self.0.id)
            .await
            .gql()?;
        Ok(edits
            .into_iter()
            .map(|e| PostEdit {
                edited_at: e.edited_at,
                previous_text: e.previous_text,
            })
            .collect())
    }
}

async fn load_post(ctx: &Context<'_>, id: Option<PostId>) -> GqlResult<Option<Post>> {
    match id {
        Some(id) => Ok(loaders(ctx)?.posts.load_one(id).await?.map(Post)),
        None => Ok(None),
    }
}

/// An earlier version of a post.
#[derive(SimpleObject)]
pub(crate) struct PostEdit {
    /// When it was replaced.
    pub edited_at: Timestamp,
    /// The text before.
    pub previous_text: String,
}

/// A page of posts.
#[derive(SimpleObject)]
pub(crate) struct PostConnection {
    /// The posts with their cursors.
    pub edges: Vec<PostEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// A post in a list.
#[derive(SimpleObject)]
pub(crate) struct PostEdge {
    /// Resume after this post.
    pub cursor: String,
    /// The post.
    pub node: Post,
}

impl PostConnection {
    /// A connection from a domain page of hydrated posts (primed into the post loader).
    pub async fn from_page(
        ctx: &Context<'_>,
        req: &PageRequest,
        page: nova_core::Page<DomainPost>,
    ) -> GqlResult<Self> {
        let window = req.window(page.items, page.end_cursor, page.has_next_page);
        prime(ctx, window.edges.iter().map(|(_, p)| p)).await?;
        Ok(Self {
            edges: window
                .edges
                .into_iter()
                .map(|(cursor, p)| PostEdge {
                    cursor,
                    node: Post(p),
                })
                .collect(),
            page_info: window.page_info,
        })
    }
}

/// Puts already-hydrated posts into the request's post loader.
pub(crate) async fn prime<'p>(
    ctx: &Context<'_>,
    posts: impl Iterator<Item = &'p DomainPost>,
) -> GqlResult<()> {
    let loaders = loaders(ctx)?;
    let posts: Vec<&DomainPost> = posts.collect();
    loaders
        .posts
        .feed_many(posts.iter().map(|p| (p.id, (*p).clone())))
        .await;
    loaders.learn_access(posts.into_iter()).await;
    Ok(())
}

/// A new post, reply or quote.
#[derive(InputObject)]
pub(crate) struct PostInput {
    /// The text (hashtags, mentions and links are found in it).
    pub text: String,
    /// Who may see it.
    #[graphql(default_with = "Visibility::Public")]
    pub visibility: Visibility,
    /// Who may reply.
    #[graphql(default_with = "ReplyPolicy::Everyone")]
    pub reply_policy: ReplyPolicy,
    /// Whether others may quote it.
    #[graphql(default = true)]
    pub quotes_allowed: bool,
    /// Content warning.
    pub content_warning: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// Makes retries safe: the same key returns the same post.
    pub idempotency_key: Option<String>,
    /// Up to 4 images or 1 video: the caller's own ready uploads, each used once.
    #[graphql(default)]
    pub media: Vec<super::MediaInput>,
}

impl PostInput {
    /// The domain's `NewPost`, replying to or quoting what is given (`InvalidArgument`
    /// on `media` for an id that is not one).
    pub fn into_new_post(
        self,
        reply_to: Option<PostId>,
        quote_of: Option<PostId>,
    ) -> GqlResult<NewPost> {
        let media = self
            .media
            .into_iter()
            .map(|m| {
                Ok(MediaAttachment {
                    media_id: super::parse_id(&m.id, "media")?,
                    alt_text: m.alt_text,
                })
            })
            .collect::<GqlResult<Vec<_>>>()?;
        Ok(NewPost {
            text: self.text,
            media,
            language: self.language,
            visibility: self.visibility.into(),
            content_warning: self.content_warning,
            reply_to,
            quote_of,
            reply_policy: self.reply_policy.into(),
            quotes_allowed: self.quotes_allowed,
            idempotency_key: self.idempotency_key,
        })
    }
}
