//! Content's ports to trust & safety (implemented in nova-app over
//! `nova_trust_safety::TrustSafetyApi`): the check a post passes before it is stored
//! ([`PublishCheck`]) and the moderation in force when posts are read ([`Moderation`]).

use std::collections::HashSet;

use async_trait::async_trait;
use nova_core::{PostId, Result, UserId};

/// What the pre-publish check decided about a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screening {
    /// Publish as written.
    Allow,
    /// Publish carrying these labels (e.g. `sensitive`): they become the post's content
    /// warning when the author gave none.
    Label(Vec<String>),
    /// Store it, but only its author sees it until a moderator releases it; the reason
    /// is the author's.
    Hold(String),
    /// Refuse, telling the author this reason.
    Reject(String),
}

/// The synchronous check a post passes before it is stored.
#[async_trait]
pub trait PublishCheck: Send + Sync {
    /// Screens `text` written by `author`.
    async fn screen(&self, author: UserId, text: &str) -> Result<Screening>;
    /// Keeps `post` (about to be stored) out of others' sight until a moderator releases
    /// it, telling `author` `reason`.
    async fn hold(&self, post: PostId, author: UserId, reason: &str) -> Result<()>;
}

/// Moderation in force on some posts and their authors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// Posts only their author may see.
    pub hidden: HashSet<PostId>,
    /// Posts nobody may see.
    pub removed: HashSet<PostId>,
    /// Authors whose posts only they may see (suspended or deleted accounts).
    pub suspended: HashSet<UserId>,
}

impl Restrictions {
    /// Whether `viewer` may see `post` by `author` under these restrictions.
    pub fn allows(&self, viewer: Option<UserId>, post: PostId, author: UserId) -> bool {
        if self.removed.contains(&post) {
            return false;
        }
        if self.hidden.contains(&post) || self.suspended.contains(&author) {
            return viewer == Some(author);
        }
        true
    }
}

/// Answers which moderation actions hold on posts and their authors.
#[async_trait]
pub trait Moderation: Send + Sync {
    /// The restrictions in force on any of `posts` or `authors`.
    async fn restrictions(&self, posts: &[PostId], authors: &[UserId]) -> Result<Restrictions>;
}
