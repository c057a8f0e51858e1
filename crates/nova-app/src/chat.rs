//! The chat domain's ports, answered by the social domain: [`SocialReach`] (blocks both
//! ways, existence, follows; one `author_access` call per question) for nova-chat, and
//! [`SocialInteraction`] (social's `can_interact`) for the key directory of nova-e2ee.

use std::sync::Arc;

use async_trait::async_trait;
use nova_chat::{ChatRelations, Reach};
use nova_core::{Result, UserId};
use nova_e2ee::InteractionPolicy;
use nova_social::SocialApi;

/// [`ChatRelations`] over social.
pub struct SocialReach(pub Arc<dyn SocialApi>);

#[async_trait]
impl ChatRelations for SocialReach {
    async fn reach(&self, actor: UserId, others: &[UserId]) -> Result<Vec<Reach>> {
        let access = self.0.author_access(Some(actor), others).await?;
        Ok(access
            .into_iter()
            .map(|a| Reach {
                exists: a.exists,
                can_interact: a.can_interact,
                follows_actor: a.author_follows_viewer,
            })
            .collect())
    }
}

/// [`InteractionPolicy`] over social: no key claims or messages across a block.
pub struct SocialInteraction(pub Arc<dyn SocialApi>);

#[async_trait]
impl InteractionPolicy for SocialInteraction {
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        self.0.can_interact(viewer, target).await
    }
}

/// The key directory's gRPC token check, answered by the process's [`nova_auth::Authenticator`].
pub struct KeyDirectoryAuth(pub Arc<dyn nova_auth::Authenticator>);

#[async_trait]
impl nova_e2ee::grpc::Authenticator for KeyDirectoryAuth {
    async fn authenticate(&self, bearer_token: &str) -> Result<nova_core::Principal> {
        self.0.authenticate(bearer_token).await
    }
}
