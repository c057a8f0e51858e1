//! What nova-social answers for other domains, as their ports.

use async_trait::async_trait;
use nova_core::{Result, UserId};

/// Social answering nova-user's block question, so the users REST routes hide a
/// profile across a block as GraphQL does (`nova_user::http::router_with_blocks`).
pub struct SocialInteractions(pub std::sync::Arc<dyn crate::SocialApi>);

#[async_trait]
impl nova_user::http::Interactions for SocialInteractions {
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        self.0.can_interact(viewer, target).await
    }
}
