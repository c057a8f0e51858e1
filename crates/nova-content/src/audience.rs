//! What content needs to know about people, as a port: who may see whom, and who a
//! username is. [`SocialAudience`] asks social (the one authority on access) and users.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, UserId};
use nova_graph::GraphApi;
use nova_social::SocialApi;
use nova_user::UserApi;

/// How a viewer stands towards one author: social's answer, carried with the posts.
pub use nova_social::AuthorAccess;

/// People, as content sees them.
#[async_trait]
pub trait Audience: Send + Sync {
    /// The viewer's standing towards each author (anonymous: no follows, may interact).
    async fn access(&self, viewer: Option<UserId>, authors: &[UserId])
    -> Result<Vec<AuthorAccess>>;
    /// Users with these usernames (case-insensitive); unknown names are left out.
    async fn resolve(&self, usernames: &[String]) -> Result<Vec<(String, UserId)>>;
}

/// [`Audience`] over social (who may see whom: one call for any number of authors) and
/// users (usernames).
pub struct SocialAudience {
    social: Arc<dyn SocialApi>,
    users: Arc<dyn UserApi>,
}

impl SocialAudience {
    /// Over social and users. `_graph` is no longer asked (social answers relationships
    /// with access); the parameter keeps existing wiring compiling.
    pub fn new(
        social: Arc<dyn SocialApi>,
        _graph: Arc<dyn GraphApi>,
        users: Arc<dyn UserApi>,
    ) -> Self {
        Self { social, users }
    }
}

#[async_trait]
impl Audience for SocialAudience {
    async fn access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<AuthorAccess>> {
        // Social is the one authority on who may see whom: one call for all authors.
        self.social.author_access(viewer, authors).await
    }

    async fn resolve(&self, usernames: &[String]) -> Result<Vec<(String, UserId)>> {
        let mut found = Vec::new();
        for name in usernames.iter().take(20) {
            if let Ok(profile) = self.users.profile_by_username(name).await {
                found.push((name.clone(), profile.user_id));
            }
        }
        Ok(found)
    }
}
