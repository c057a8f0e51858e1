//! The content Store port and its SQL adapter.

mod sql;

use async_trait::async_trait;
use nova_core::{PostId, Result, Timestamp, UserId};
use nova_events::EventEnvelope;

use crate::model::Edit;

pub use sql::SqlContentStore;

/// A post row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PostRow {
    /// Id.
    pub id: PostId,
    /// Author.
    pub author_id: UserId,
    /// Text.
    pub text: String,
    /// Facets, JSON.
    pub facets: String,
    /// Media, JSON.
    pub media: String,
    /// Language.
    pub language: Option<String>,
    /// Visibility name.
    pub visibility: String,
    /// Content warning.
    pub content_warning: Option<String>,
    /// Parent.
    pub reply_to: Option<PostId>,
    /// Thread root.
    pub root_id: Option<PostId>,
    /// Depth.
    pub depth: i32,
    /// Quoted post.
    pub quote_of: Option<PostId>,
    /// Reply policy name.
    pub reply_policy: String,
    /// Quotes allowed.
    pub quotes_allowed: bool,
    /// Likes.
    pub like_count: i64,
    /// Replies.
    pub reply_count: i64,
    /// Quotes.
    pub quote_count: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Edited.
    pub edited_at: Option<Timestamp>,
    /// Deleted.
    pub deleted_at: Option<Timestamp>,
    /// Client idempotency key.
    pub idempotency_key: Option<String>,
    /// Hash of the request that used the key.
    pub request_hash: Option<Vec<u8>>,
}

/// A post to insert and what is written with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostInsert {
    /// The row.
    pub row: PostRow,
    /// Resolved mentions.
    pub mentions: Vec<UserId>,
    /// Hashtags (lowercased, deduplicated).
    pub hashtags: Vec<String>,
    /// Its outbox events.
    pub events: Vec<EventEnvelope>,
}

pub use crate::model::TimelineKind;

/// What the viewer may see of one author's posts (already decided by the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorScope {
    /// Followers-only posts too.
    pub followers: bool,
    /// Every post (the author themself).
    pub all: bool,
}

/// Content storage.
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// Inserts posts with their mentions, hashtags and events, all in one transaction
    /// (all or nothing); bumps each parent's reply count and each quoted post's quote
    /// count in it. A reused idempotency key is `Conflict`.
    async fn insert_posts(&self, posts: &[PostInsert]) -> Result<()>;
    /// The author's post created with `key`.
    async fn by_idempotency_key(&self, author: UserId, key: &str) -> Result<Option<PostRow>>;
    /// Posts by id (any order; missing ones absent), one query.
    async fn posts(&self, ids: &[PostId]) -> Result<Vec<PostRow>>;
    /// Mentioned users of these posts, one query.
    async fn mentions(&self, ids: &[PostId]) -> Result<Vec<(PostId, UserId)>>;
    /// Which of `ids` the viewer liked and bookmarked.
    async fn viewer_flags(
        &self,
        viewer: UserId,
        ids: &[PostId],
    ) -> Result<(Vec<PostId>, Vec<PostId>)>;
    /// An author's posts newest first, before `before`, limited to what `scope` and the
    /// viewer's mentions allow.
    async fn author_posts(
        &self,
        author: UserId,
        kind: TimelineKind,
        scope: AuthorScope,
        viewer: Option<UserId>,
        before: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<PostRow>>;
    /// Replies in a thread in creation order, after `after`.
    async fn thread(&self, root: PostId, after: Option<PostId>, limit: u32)
    -> Result<Vec<PostRow>>;
    /// Replaces the text (keeping the previous one in the history).
    #[allow(clippy::too_many_arguments)]
    async fn edit(
        &self,
        post: PostId,
        editor: UserId,
        text: &str,
        facets_json: &str,
        hashtags: &[String],
        mentions: &[UserId],
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()>;
    /// Edit history, oldest first.
    async fn edits(&self, post: PostId) -> Result<Vec<Edit>>;
    /// Tombstones a post; `false` if already deleted.
    async fn delete(&self, post: PostId, now: Timestamp, events: &[EventEnvelope]) -> Result<bool>;
    /// Likes; `false` if already liked. The count moves only when the row did.
    async fn like(
        &self,
        user: UserId,
        post: PostId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Unlikes; `false` if not liked.
    async fn unlike(&self, user: UserId, post: PostId, events: &[EventEnvelope]) -> Result<bool>;
    /// Records `user`'s repost of `post` (by `author`) with its events; `false` if it
    /// existed (and then no events are written).
    async fn add_repost(
        &self,
        user: UserId,
        post: PostId,
        author: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// The reposts between `a` and `b` either way, as (reposter, post, post author).
    async fn reposts_between(&self, a: UserId, b: UserId) -> Result<Vec<(UserId, PostId, UserId)>>;
    /// The author of `user`'s repost of `post`, if any.
    async fn repost_author(&self, user: UserId, post: PostId) -> Result<Option<UserId>>;
    /// Removes a repost with its events; `false` if there was none.
    async fn remove_repost(
        &self,
        user: UserId,
        post: PostId,
        events: &[EventEnvelope],
    ) -> Result<bool>;
    /// Bookmarks; `false` if already.
    async fn bookmark(&self, user: UserId, post: PostId, now: Timestamp) -> Result<bool>;
    /// Removes a bookmark.
    async fn unbookmark(&self, user: UserId, post: PostId) -> Result<bool>;
    /// A user's bookmarked posts, newest bookmark first.
    async fn bookmarks(&self, user: UserId, limit: u32) -> Result<Vec<PostId>>;
    /// Like rows of a post, counted (to check the stored count).
    async fn count_like_rows(&self, post: PostId) -> Result<i64>;
}
