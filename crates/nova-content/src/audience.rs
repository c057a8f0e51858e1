//! What content needs to know about people, as a port: who may see whom, and who a
//! username is. [`SocialAudience`] answers it from the social, graph and users domains.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, UserId};
use nova_graph::GraphApi;
use nova_social::SocialApi;
use nova_user::UserApi;

/// How a viewer stands towards one author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorAccess {
    /// The author.
    pub author: UserId,
    /// The author's account exists and is active (deactivated and deleted accounts'
    /// posts disappear with them).
    pub exists: bool,
    /// No block either way (directly or through block lists).
    pub can_interact: bool,
    /// The viewer follows the author.
    pub viewer_follows: bool,
    /// The author follows the viewer.
    pub author_follows_viewer: bool,
    /// The author's account is private.
    pub author_private: bool,
}

/// People, as content sees them.
#[async_trait]
pub trait Audience: Send + Sync {
    /// The viewer's standing towards each author (anonymous: no follows, may interact).
    async fn access(&self, viewer: Option<UserId>, authors: &[UserId])
    -> Result<Vec<AuthorAccess>>;
    /// Users with these usernames (case-insensitive); unknown names are left out.
    async fn resolve(&self, usernames: &[String]) -> Result<Vec<(String, UserId)>>;
}

/// [`Audience`] over the social, graph and users APIs: five calls for any number of
/// authors.
pub struct SocialAudience {
    social: Arc<dyn SocialApi>,
    graph: Arc<dyn GraphApi>,
    users: Arc<dyn UserApi>,
}

impl SocialAudience {
    /// Over the three domains.
    pub fn new(
        social: Arc<dyn SocialApi>,
        graph: Arc<dyn GraphApi>,
        users: Arc<dyn UserApi>,
    ) -> Self {
        Self {
            social,
            graph,
            users,
        }
    }
}

#[async_trait]
impl Audience for SocialAudience {
    async fn access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<AuthorAccess>> {
        let privacy = self.users.privacy(authors).await?;
        let private = |a: UserId| privacy.iter().any(|p| p.user_id == a && p.private_account);
        let active: Vec<UserId> = self
            .users
            .profiles(authors)
            .await?
            .iter()
            .map(|p| p.user_id)
            .collect();
        let exists = |a: UserId| active.contains(&a);
        let Some(viewer) = viewer else {
            return Ok(authors
                .iter()
                .map(|a| AuthorAccess {
                    author: *a,
                    exists: exists(*a),
                    can_interact: true,
                    viewer_follows: false,
                    author_follows_viewer: false,
                    author_private: private(*a),
                })
                .collect());
        };
        let interact = self.social.can_interact_many(viewer, authors).await?;
        let pairs: Vec<(UserId, UserId)> = authors.iter().map(|a| (viewer, *a)).collect();
        let relationships = self.graph.relationships(&pairs).await?;
        Ok(authors
            .iter()
            .zip(interact)
            .map(|(a, can_interact)| {
                let rel = relationships.iter().find(|r| r.to == *a);
                AuthorAccess {
                    author: *a,
                    exists: exists(*a),
                    can_interact,
                    viewer_follows: rel.is_some_and(|r| r.following),
                    author_follows_viewer: rel.is_some_and(|r| r.followed_by),
                    author_private: private(*a),
                }
            })
            .collect())
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
