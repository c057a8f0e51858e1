//! The chat domain's ports, answered by the social domain: [`SocialReach`] (blocks both
//! ways, existence, follows; one `author_access` call per question; suspended accounts
//! from trust & safety) for nova-chat, and
//! [`SocialInteraction`] (social's `can_interact`) for the key directory of nova-e2ee.

use std::sync::Arc;

use async_trait::async_trait;
use nova_chat::{ChatRelations, Reach};
use nova_core::{Result, UserId};
use nova_e2ee::InteractionPolicy;
use nova_social::SocialApi;
use nova_trust_safety::TrustSafetyApi;

use crate::moderation::account_actions;

/// [`ChatRelations`] over social and trust & safety: a suspended or deleted account
/// neither writes nor is written to.
pub struct SocialReach {
    social: Arc<dyn SocialApi>,
    trust_safety: Arc<dyn TrustSafetyApi>,
}

impl SocialReach {
    /// Over the owning domains.
    pub fn new(social: Arc<dyn SocialApi>, trust_safety: Arc<dyn TrustSafetyApi>) -> Self {
        Self {
            social,
            trust_safety,
        }
    }
}

#[async_trait]
impl ChatRelations for SocialReach {
    async fn reach(&self, actor: UserId, others: &[UserId]) -> Result<Vec<Reach>> {
        let access = self.social.author_access(Some(actor), others).await?;
        let (suspended, _) = account_actions(&*self.trust_safety, others).await?;
        Ok(access
            .into_iter()
            .map(|a| Reach {
                exists: a.exists && !suspended.contains(&a.author),
                can_interact: a.can_interact,
                follows_actor: a.author_follows_viewer,
            })
            .collect())
    }

    async fn may_write(&self, actor: UserId) -> Result<bool> {
        let (suspended, _) = account_actions(&*self.trust_safety, &[actor]).await?;
        Ok(suspended.is_empty())
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
