//! What search needs from other domains, implemented where the domains are wired
//! (`nova-app`): the viewer-access authority ([`Access`]) and the source of documents
//! ([`Corpus`]). Search constructs neither domain.

use async_trait::async_trait;
use nova_core::{PostId, Principal, Result, UserId};

use crate::model::{PostDoc, UserDoc};

/// The authority on what a viewer may see (content's visibility rules and social's
/// blocks, privacy and follows). Every page is re-checked here before it is returned.
#[async_trait]
pub trait Access: Send + Sync {
    /// The posts of `ids` that `viewer` may see now (any order).
    async fn visible_posts(
        &self,
        viewer: Option<&Principal>,
        ids: &[PostId],
    ) -> Result<Vec<PostId>>;
    /// The accounts of `ids` that exist, are active and are not in a block with `viewer`
    /// either way (any order).
    async fn visible_users(
        &self,
        viewer: Option<&Principal>,
        ids: &[UserId],
    ) -> Result<Vec<UserId>>;
}

/// Where indexed documents come from: the owning domains, read as they are now (so an
/// event only says *what* changed and replaying it is harmless).
#[async_trait]
pub trait Corpus: Send + Sync {
    /// The post as it is now; `None` when it is gone (deleted, or its author is).
    async fn post(&self, author: UserId, id: PostId) -> Result<Option<PostDoc>>;
    /// A page of active accounts' ids after `after`, in id order; empty at the end (the
    /// full rebuild walks every account with it).
    async fn user_ids(&self, after: Option<UserId>) -> Result<Vec<UserId>>;
    /// The account as it is now; `None` when it is deactivated, deleted or unknown.
    async fn user(&self, id: UserId) -> Result<Option<UserDoc>>;
    /// One page of an author's posts (replies included), oldest cursor first; `None` as
    /// the next cursor at the end.
    async fn author_posts(
        &self,
        author: UserId,
        after: Option<String>,
    ) -> Result<(Vec<PostDoc>, Option<String>)>;
}
