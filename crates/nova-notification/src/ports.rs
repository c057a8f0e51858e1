//! What nova-notification asks other domains, as its ports (implemented in the
//! composition root, nova-app, over the social domain).

use std::collections::HashSet;

use async_trait::async_trait;
use nova_core::{Result, UserId};

use crate::model::Standing;

/// How a recipient stands towards the accounts that act on them: blocks (both ways,
/// block lists included), mutes, follows. Asked once per recipient per ingested batch.
#[async_trait]
pub trait Relations: Send + Sync {
    /// `recipient`'s standing towards each of `actors`, in order.
    async fn standings(&self, recipient: UserId, actors: &[UserId]) -> Result<Vec<Standing>>;

    /// What moderation withholds from `recipient`'s notifications, among `actors` and
    /// `posts` (the posts they are about and the actors' own posts), when they are read:
    /// suspended or deleted accounts, posts removed or hidden from the recipient.
    /// Nothing by default.
    async fn withheld(
        &self,
        recipient: UserId,
        actors: &[UserId],
        posts: &[String],
    ) -> Result<Withheld> {
        let _ = (recipient, actors, posts);
        Ok(Withheld::default())
    }
}

/// What moderation withholds from a recipient's notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Withheld {
    /// Actors whose activity is not shown (suspended or deleted accounts).
    pub actors: HashSet<UserId>,
    /// Posts (ids as notifications carry them) the recipient may no longer read.
    pub posts: HashSet<String>,
}

impl Withheld {
    /// Drops the withheld actors and posts from `items`: a notification about a
    /// withheld post, or left without actors, goes.
    pub fn apply(&self, items: &mut Vec<crate::model::Notification>) {
        if self.actors.is_empty() && self.posts.is_empty() {
            return;
        }
        items.retain_mut(|n| {
            if n.target_id.as_ref().is_some_and(|t| self.posts.contains(t)) {
                return false;
            }
            let before = n.actors.len();
            n.actors.retain(|a| {
                !self.actors.contains(&a.user_id)
                    && !a
                        .subject_id
                        .as_ref()
                        .is_some_and(|s| self.posts.contains(s))
            });
            let dropped = (before - n.actors.len()) as u64;
            n.count = n.count.saturating_sub(dropped).max(n.actors.len() as u64);
            !n.actors.is_empty()
        });
    }
}
