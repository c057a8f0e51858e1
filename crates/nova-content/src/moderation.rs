//! Content's ports to trust & safety (implemented in nova-app over
//! `nova_trust_safety::TrustSafetyApi`): the check a post passes before it is stored
//! ([`PublishCheck`]) and the moderation in force when posts are read ([`Moderation`]).

use std::collections::{HashMap, HashSet};

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
    /// Labels on posts (`sensitive`, `spoiler`, `misleading`), shown to every reader.
    pub labels: HashMap<PostId, Vec<String>>,
    /// Posts demoted in ranked feeds and kept out of explore and trending.
    pub reduced: HashSet<PostId>,
    /// Authors whose posts reach only their followers (silenced accounts).
    pub silenced: HashSet<UserId>,
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

    /// How far `post` by `author` travels beyond direct reads.
    pub fn reach(&self, post: PostId, author: UserId) -> Reach {
        Reach {
            reduced: self.reduced.contains(&post),
            followers_only: self.silenced.contains(&author),
        }
    }

    /// The labels on `post`, sorted.
    pub fn labels(&self, post: PostId) -> Vec<String> {
        let mut labels = self.labels.get(&post).cloned().unwrap_or_default();
        labels.sort();
        labels.dedup();
        labels
    }
}

/// How far moderation lets a post travel beyond direct reads, which it never limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// Reduced reach: demoted in ranked feeds, out of explore and trending; followers
    /// still read it.
    pub reduced: bool,
    /// A silenced author: only the author's followers (and the author) discover it.
    pub followers_only: bool,
}

impl Reach {
    /// Whether `viewer` may come across the post outside a direct read (explore,
    /// trending, search, out-of-network feed items): always its author; a silenced
    /// author's followers only; anyone otherwise. `follows`: the viewer follows the
    /// author.
    pub fn discoverable(&self, viewer: Option<UserId>, author: UserId, follows: bool) -> bool {
        viewer == Some(author) || !self.followers_only || follows
    }

    /// Whether the post may be pushed to `viewer` as trending or explore material:
    /// [`Self::discoverable`] and not reduced (for nobody, its author included).
    pub fn promotable(&self, viewer: Option<UserId>, author: UserId, follows: bool) -> bool {
        !self.reduced && self.discoverable(viewer, author, follows)
    }
}

/// Answers which moderation actions hold on posts and their authors.
#[async_trait]
pub trait Moderation: Send + Sync {
    /// The restrictions in force on any of `posts` or `authors`.
    async fn restrictions(&self, posts: &[PostId], authors: &[UserId]) -> Result<Restrictions>;
}
