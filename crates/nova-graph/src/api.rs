//! The graph API: implemented in-process by [`GraphService`](crate::GraphService) (and,
//! later, by a gRPC client), so callers hold an `Arc<dyn GraphApi>`.

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};

use crate::model::{FollowCounts, Page, Relationship, Suggestion};

/// Follow / block / mute edges between users.
///
/// This is the **internal relationship engine**: it checks the graph's own rules (no
/// self-edges, no follow across a block) but does **no viewer authorization**. Callers
/// (nova-social) check privacy settings and blocks before listing someone's followers or
/// following, and decide who may follow whom (follow requests for private accounts).
///
/// List methods page newest first with opaque cursors; `first` is capped at
/// [`MAX_PAGE`](crate::model::MAX_PAGE) (0 means the default of 20). Batch lookups take
/// at most [`MAX_BATCH`](crate::model::MAX_BATCH) entries and are one round trip each.
#[async_trait]
pub trait GraphApi: Send + Sync {
    /// `follower` follows `followee`. `true` if the edge is new, `false` if it existed.
    /// Self-follow is `InvalidArgument`; a block either way is `PermissionDenied`.
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool>;
    /// Removes the follow edge; `true` if there was one.
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool>;
    /// `blocker` blocks `blocked`, removing follows in both directions in the same
    /// transaction (counts stay exact). `true` if the block is new.
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<bool>;
    /// Removes the block (follows are not restored); `true` if there was one.
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool>;
    /// `muter` mutes `muted` until `until` (or until unmuted), optionally only their
    /// reposts. `true` if no active mute existed; an existing mute takes the new settings.
    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<bool>;
    /// Removes the mute; `true` if an active one was removed.
    async fn unmute(&self, muter: UserId, muted: UserId) -> Result<bool>;
    /// How each `(from, to)` pair relates, in the order asked; one round trip.
    async fn relationships(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<Relationship>>;
    /// Who follows `user`, newest follow first.
    async fn followers(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>>;
    /// Whom `user` follows, newest follow first.
    async fn following(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>>;
    /// Stored follower / following counts, in the order asked; one round trip.
    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>>;
    /// Users `user` follows who follow back, newest follow (by `user`) first.
    async fn mutual_follows(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>>;
    /// Friends of friends, ranked by mutual connections (how many users `user` follows
    /// follow them), excluding `user`, users already followed, blocks either way and
    /// active mutes; one query. `limit` is capped at [`MAX_PAGE`](crate::model::MAX_PAGE).
    async fn suggestions(&self, user: UserId, limit: u32) -> Result<Vec<Suggestion>>;
    /// Every user `user` blocks **or is blocked by**: the set to hide both ways (feeds,
    /// replies, mentions). Unordered.
    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>>;
    /// The same set as [`blocked_either_way`](Self::blocked_either_way) (both directions);
    /// the name of the first API draft.
    async fn blocked_ids(&self, user: UserId) -> Result<Vec<UserId>> {
        self.blocked_either_way(user).await
    }
}
