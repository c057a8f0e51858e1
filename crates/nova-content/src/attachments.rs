//! Content's port to the media domain (implemented in nova-app over
//! `nova_media::MediaApi`): a post's media must be uploads of its author that are ready
//! and used nowhere else. Attaching them makes them the post's, so that deleting the
//! post deletes them (media's own consumer of `post.deleted`).

use async_trait::async_trait;
use nova_core::{MediaId, PostId, Result, UserId};

/// Where a new post's media are checked and claimed.
#[async_trait]
pub trait Attachments: Send + Sync {
    /// Attaches `media` to `post`, all or none: `InvalidArgument` when one of them is
    /// not `author`'s, not ready, or already attached elsewhere.
    async fn attach(&self, author: UserId, post: PostId, media: &[MediaId]) -> Result<()>;
}
