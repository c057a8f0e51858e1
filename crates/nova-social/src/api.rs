//! The social API.

use async_trait::async_trait;
use nova_core::Page;
use nova_core::{Principal, Result, Timestamp, UserId};

use crate::model::{BlockList, BlockListId, FollowOutcome, FollowRequest};

/// The actions people take on each other, with their rules.
///
/// Anything the caller may not see — a blocked or blocking account, a private account's
/// lists — answers `NotFound`, exactly like something that does not exist.
#[async_trait]
pub trait SocialApi: Send + Sync {
    /// Follows `target`, or asks to when the account is private.
    async fn follow(&self, principal: &Principal, target: UserId) -> Result<FollowOutcome>;
    /// Stops following `target` (and withdraws a pending request).
    async fn unfollow(&self, principal: &Principal, target: UserId) -> Result<()>;
    /// Makes `follower` stop following the caller.
    async fn remove_follower(&self, principal: &Principal, follower: UserId) -> Result<()>;
    /// Requests waiting for the caller's approval, oldest first.
    async fn pending_requests(&self, principal: &Principal) -> Result<Vec<FollowRequest>>;
    /// Approves a request: the requester now follows the caller.
    async fn approve_request(&self, principal: &Principal, requester: UserId) -> Result<()>;
    /// Denies a request.
    async fn deny_request(&self, principal: &Principal, requester: UserId) -> Result<()>;
    /// Blocks `target`: follows both ways, requests and reposts between the two end.
    async fn block(&self, principal: &Principal, target: UserId) -> Result<()>;
    /// Lifts a block.
    async fn unblock(&self, principal: &Principal, target: UserId) -> Result<()>;
    /// Mutes `target`, optionally until a time and optionally only their reposts.
    async fn mute(
        &self,
        principal: &Principal,
        target: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<()>;
    /// Lifts a mute.
    async fn unmute(&self, principal: &Principal, target: UserId) -> Result<()>;
    /// Whether `viewer` may interact with `target` at all (follow, see, reply, mention,
    /// quote, message): no block either way, directly or through a subscribed block list.
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool>;
    /// [`can_interact`](Self::can_interact) for many targets in two round trips.
    async fn can_interact_many(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<bool>>;
    /// The viewer's standing towards each author (in the order asked) in one answer:
    /// existence, blocks both ways (and block lists), privacy, follows both ways. One
    /// graph lookup for all of them; anonymous viewers follow nobody and may interact.
    async fn author_access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<crate::model::AuthorAccess>>;
    /// Whether `viewer` may see `author`'s followers-level content: the author, or an
    /// approved follower of a private account, or anyone not blocked for a public one.
    async fn can_view(&self, viewer: Option<UserId>, author: UserId) -> Result<bool>;
    /// Who follows `user`, as `viewer` may see it.
    async fn followers(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>>;
    /// Whom `user` follows, as `viewer` may see it.
    async fn following(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>>;
    /// Publishes a new block list.
    async fn create_block_list(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<BlockList>;
    /// Adds `user` to the caller's list.
    async fn add_to_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()>;
    /// Removes `user` from the caller's list.
    async fn remove_from_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()>;
    /// Subscribes: the list's members count as blocked by the caller.
    async fn subscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()>;
    /// Unsubscribes.
    async fn unsubscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()>;
}
