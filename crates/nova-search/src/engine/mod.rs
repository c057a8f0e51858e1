//! The engine port: what the search service needs from an index, so the embedded
//! Tantivy index ([`TantivyEngine`]) and the scale-out engine (`OpenSearchEngine`, feature
//! `opensearch`: OpenSearch or Elasticsearch, bulk writes, alias-swapped reindex,
//! `search_after` paging) are interchangeable behind it.
//!
//! Writes come in batches of [`Change`]s and are visible to searches once
//! [`SearchEngine::apply`] returns (Tantivy: one commit and a reader reload per batch).
//! Every change is an upsert or a delete by id, so applying a batch twice leaves the
//! same index (at-least-once delivery is harmless).

#[cfg(feature = "opensearch")]
pub mod opensearch;
pub mod tantivy;

use async_trait::async_trait;
use nova_core::{PostId, Result, Timestamp, UserId};

use crate::model::{HashtagHit, PostDoc, PostHit, UserDoc, UserHit};
use crate::query::ParsedQuery;

#[cfg(feature = "opensearch")]
pub use self::opensearch::{OpenSearchConfig, OpenSearchEngine};
pub use self::tantivy::TantivyEngine;

/// One index change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Adds or replaces a post.
    UpsertPost(PostDoc),
    /// Removes a post (no-op when absent).
    DeletePost(PostId),
    /// Removes every post of an author (deactivated or deleted accounts).
    DeleteAuthorPosts(UserId),
    /// Adds or replaces an account.
    UpsertUser(UserDoc),
    /// Removes an account.
    DeleteUser(UserId),
}

/// Who is asking, for the filter applied inside the engine (the service re-checks each
/// hit against the viewer-access authority afterwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerFilter {
    /// Anonymous: public posts of public accounts only.
    Anonymous,
    /// Signed in: public and followers-only posts, mentioned-only posts that mention
    /// them, and their own posts.
    User(UserId),
}

/// A post query, resolved (`from:` usernames already turned into ids).
#[derive(Debug, Clone)]
pub struct PostQuery {
    /// The parsed text.
    pub parsed: ParsedQuery,
    /// Authors of `from:` (empty: any author).
    pub authors: Vec<UserId>,
    /// The viewer filter.
    pub viewer: ViewerFilter,
    /// "Now" for the recency boost.
    pub now: Timestamp,
}

/// A full-text index of posts, users and hashtags.
#[async_trait]
pub trait SearchEngine: Send + Sync {
    /// Applies `changes` in order; they are searchable when this returns.
    async fn apply(&self, changes: Vec<Change>) -> Result<()>;
    /// Posts matching `query`, best first, ranks `offset..offset + limit`.
    async fn posts(&self, query: PostQuery, offset: usize, limit: usize) -> Result<Vec<PostHit>>;
    /// Discoverable accounts matching `text` (the last word as a prefix), best first.
    async fn users(&self, text: &str, offset: usize, limit: usize) -> Result<Vec<UserHit>>;
    /// Hashtags starting with `prefix` that public posts of public accounts use, most
    /// used first.
    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<HashtagHit>>;
    /// The indexed account, if any.
    async fn user(&self, id: UserId) -> Result<Option<UserDoc>>;
    /// The ids of indexed accounts with these usernames (case-insensitive), whether
    /// discoverable or not (`from:` works on anyone whose posts one may see).
    async fn user_ids(&self, usernames: &[String]) -> Result<Vec<UserId>>;
    /// Number of indexed posts and users (for metrics and tests).
    async fn counts(&self) -> Result<(u64, u64)>;
}
