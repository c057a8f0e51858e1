//! Content answering other domains' ports.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{ErrorKind, PostId, Principal, Result};

use crate::ContentApi;

/// Content answering nova-user's "is this post the caller's own?", so the users REST
/// routes refuse pinning someone else's post as GraphQL does
/// (`nova_user::http::router_with_ports`).
pub struct ContentPosts(pub Arc<dyn ContentApi>);

#[async_trait]
impl nova_user::http::OwnPosts for ContentPosts {
    async fn is_own_post(&self, author: &Principal, post: PostId) -> Result<bool> {
        match self.0.post(Some(author), post).await {
            Ok(p) => Ok(p.author_id == author.user_id && !p.deleted),
            // Missing and invisible answer alike: not the caller's.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
