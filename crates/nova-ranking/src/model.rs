//! Plain domain types: candidates, viewers, preferences and ranked results.

use std::collections::HashSet;

use nova_core::{PostId, Timestamp, UserId};

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// From an account the viewer follows.
    InNetwork,
    /// Recommended from outside the viewer's follows.
    OutOfNetwork,
}

/// What kind of post a candidate is (several can hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PostKind {
    /// Has images or video.
    pub media: bool,
    /// Has a link.
    pub link: bool,
    /// Is a reply.
    pub reply: bool,
    /// Is a repost of someone else's post.
    pub repost: bool,
}

/// A post that could be shown to a viewer, with what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The post.
    pub post_id: PostId,
    /// Its author.
    pub author_id: UserId,
    /// When it was posted.
    pub created_at: Timestamp,
    /// Its kind.
    pub kind: PostKind,
    /// Its language, if known (`en`, `pt`).
    pub lang: Option<String>,
    /// The author's follower count.
    pub author_followers: u64,
    /// Likes so far.
    pub likes: u64,
    /// Replies so far.
    pub replies: u64,
    /// Weighted engagements per hour (from nova-trending's velocity).
    pub velocity: f64,
    /// In or out of network.
    pub source: Source,
}

/// What the viewer asked for: per-user tunable weights (1.0 = neutral).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preferences {
    /// "More from people I follow": multiplies in-network scores.
    pub in_network: f64,
    /// "Fewer reposts": multiplies repost scores.
    pub reposts: f64,
    /// Multiplies replies' scores.
    pub replies: f64,
    /// Multiplies media posts' scores.
    pub media: f64,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            in_network: 1.0,
            reposts: 1.0,
            replies: 1.0,
            media: 1.0,
        }
    }
}

/// The viewer and their context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Viewer {
    /// Who.
    pub user_id: UserId,
    /// Languages they read.
    pub langs: Vec<String>,
    /// Accounts they follow.
    pub follows: HashSet<UserId>,
    /// Accounts that follow them (for "mutual").
    pub followers: HashSet<UserId>,
    /// Posts they have already seen (suppressed).
    pub seen: HashSet<PostId>,
    /// Their tuning.
    pub preferences: Preferences,
}

/// What the feature store knows about a viewer and one author.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AuthorSignals {
    /// Past positive interactions of the viewer with the author (likes, replies, ...).
    pub interactions: f64,
    /// "Show less" feedback by the viewer on the author.
    pub negative: f64,
}

/// A candidate with its score, in feed order.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedItem {
    /// The post.
    pub post_id: PostId,
    /// Its author.
    pub author_id: UserId,
    /// The model's score.
    pub model_score: f64,
    /// After per-user weights.
    pub score: f64,
    /// In or out of network.
    pub source: Source,
}
