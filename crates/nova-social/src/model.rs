//! Social types.

use nova_core::{PostId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

nova_core::define_id!(
    /// A subscribable block list.
    BlockListId
);

/// What a follow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowOutcome {
    /// Now following (public account).
    Following,
    /// A request awaits the private account's approval.
    Requested,
    /// Nothing to do: already following.
    AlreadyFollowing,
}

/// A pending follow request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct FollowRequest {
    /// Who asked.
    pub requester_id: UserId,
    /// Whom.
    pub target_id: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// A repost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repost {
    /// Who reposted.
    pub user: UserId,
    /// The post.
    pub post: PostId,
    /// Its author.
    pub author: UserId,
}

/// A block list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct BlockList {
    /// Id.
    pub id: BlockListId,
    /// Who maintains it.
    pub owner_id: UserId,
    /// Name (≤ 100 characters).
    pub name: String,
    /// Description (≤ 500 characters).
    pub description: String,
    /// Created.
    pub created_at: Timestamp,
}

/// How a viewer stands towards one author: social's one answer to "may this viewer see
/// the author's content and interact with them" (blocks both ways and through block
/// lists, privacy, follows), for a whole page of authors at once.
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
    /// The viewer blocks the author (directly).
    pub viewer_blocks: bool,
    /// The author blocks the viewer (directly).
    pub blocked_by_author: bool,
    /// The viewer mutes the author.
    pub viewer_mutes: bool,
    /// The viewer's mute hides only the author's reposts.
    pub mutes_reposts_only: bool,
}

impl AuthorAccess {
    /// The graph relationship from `viewer` to the author this answer was made from,
    /// so a caller holding it need not ask the graph again.
    pub fn relationship(&self, viewer: nova_core::UserId) -> nova_graph::model::Relationship {
        nova_graph::model::Relationship {
            from: viewer,
            to: self.author,
            following: self.viewer_follows,
            followed_by: self.author_follows_viewer,
            blocking: self.viewer_blocks,
            blocked_by: self.blocked_by_author,
            muting: self.viewer_mutes,
            muting_reposts_only: self.mutes_reposts_only,
        }
    }
}
