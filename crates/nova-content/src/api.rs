//! The content API.

use async_trait::async_trait;
use nova_core::Page;
use nova_core::{PostId, Principal, Result, UserId};

use crate::model::{Edit, NewPost, Post};
use crate::store::TimelineKind;

/// Posts, replies, quotes, likes, bookmarks and edits.
///
/// Every read checks the viewer: a post they may not see (blocked either way, a private
/// author they don't follow, followers-only or mentioned-only content not for them) is
/// `NotFound`, exactly like a post that does not exist.
#[async_trait]
pub trait ContentApi: Send + Sync {
    /// Creates a post, reply or quote.
    async fn create_post(&self, principal: &Principal, post: NewPost) -> Result<Post>;
    /// One post.
    async fn post(&self, viewer: Option<&Principal>, id: PostId) -> Result<Post>;
    /// Many posts in a few queries, in the order asked; invisible and missing ones left out.
    async fn posts(&self, viewer: Option<&Principal>, ids: &[PostId]) -> Result<Vec<Post>>;
    /// Replaces a post's text (its author only); the previous text goes to the history.
    async fn edit_post(&self, principal: &Principal, id: PostId, text: &str) -> Result<Post>;
    /// Earlier versions of a post the viewer may see.
    async fn edit_history(&self, viewer: Option<&Principal>, id: PostId) -> Result<Vec<Edit>>;
    /// Deletes a post (its author only), leaving a tombstone in its thread.
    async fn delete_post(&self, principal: &Principal, id: PostId) -> Result<()>;
    /// Likes; `false` if already liked.
    async fn like(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// Unlikes; `false` if not liked.
    async fn unlike(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// Reposts a post the caller may see; `false` if already reposted. A post the caller
    /// may not see (or cannot interact with its author) is `NotFound`, like a missing one.
    async fn repost(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// Undoes a repost; `false` if there was none.
    async fn unrepost(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// Bookmarks (private to the caller).
    async fn bookmark(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// Removes a bookmark.
    async fn unbookmark(&self, principal: &Principal, id: PostId) -> Result<bool>;
    /// The caller's bookmarks that are still visible to them, newest first.
    async fn bookmarks(&self, principal: &Principal, first: u32) -> Result<Vec<Post>>;
    /// Replies of a thread in order, tombstones included.
    async fn thread(
        &self,
        viewer: Option<&Principal>,
        root: PostId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>>;
    /// An author's posts, replies or media posts, newest first.
    async fn author_timeline(
        &self,
        viewer: Option<&Principal>,
        author: UserId,
        kind: TimelineKind,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>>;
}
