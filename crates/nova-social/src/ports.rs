//! What nova-social asks of other domains, as ports.

use async_trait::async_trait;
use nova_core::{PostId, Result, UserId};

/// Post visibility, answered by the content domain: reposting needs to know that the
/// viewer may see a post and who wrote it. Content implements it over its `ContentApi`;
/// until then the embedded build uses [`NoPosts`].
#[async_trait]
pub trait PostAccess: Send + Sync {
    /// The author of `post` if `viewer` may see it; `None` if it does not exist or is
    /// hidden from the viewer (the two are never told apart).
    async fn visible_post_author(&self, viewer: UserId, post: PostId) -> Result<Option<UserId>>;
}

/// A [`PostAccess`] set after construction: content needs social (for its audience)
/// and social needs content (for reposts), so one of the two is wired late. Until it is
/// set, no post is visible.
#[derive(Default)]
pub struct LatePostAccess {
    inner: std::sync::OnceLock<std::sync::Arc<dyn PostAccess>>,
}

impl LatePostAccess {
    /// Wires the real implementation (the first call wins).
    pub fn set(&self, access: std::sync::Arc<dyn PostAccess>) {
        let _ = self.inner.set(access);
    }
}

#[async_trait]
impl PostAccess for LatePostAccess {
    async fn visible_post_author(&self, viewer: UserId, post: PostId) -> Result<Option<UserId>> {
        match self.inner.get() {
            Some(access) => access.visible_post_author(viewer, post).await,
            None => Ok(None),
        }
    }
}

/// No posts exist (a deployment without the content domain).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPosts;

#[async_trait]
impl PostAccess for NoPosts {
    async fn visible_post_author(&self, _: UserId, _: PostId) -> Result<Option<UserId>> {
        Ok(None)
    }
}

/// Social answering nova-user's block question, so the users REST routes hide a
/// profile across a block as GraphQL does (`nova_user::http::router_with_blocks`).
pub struct SocialInteractions(pub std::sync::Arc<dyn crate::SocialApi>);

#[async_trait]
impl nova_user::http::Interactions for SocialInteractions {
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        self.0.can_interact(viewer, target).await
    }
}
