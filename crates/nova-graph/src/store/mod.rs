//! The graph Store port.
//!
//! [`SqlGraphStore`] serves PostgreSQL and SQLite with one set of queries (through
//! [`nova_db::on_db!`]); with the `cypher` feature, `CypherGraphStore` runs one set of
//! Cypher queries on FalkorDB. Both pass the conformance suite in `tests/`.
//!
//! Every mutation is atomic with its count changes, and (SQL) with its outbox events.

mod cached;
mod sql;

#[cfg(feature = "cypher")]
pub mod cypher;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};

use crate::model::{CountDrift, FollowCounts, MuteSettings, Relationship, Suggestion};

pub use cached::CachedGraphStore;
pub use sql::SqlGraphStore;

/// A position in a list: `(created_at, user id)` of the last item seen.
pub type Position = (Timestamp, UserId);

/// Which list of a user to page through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeList {
    /// Who follows the user (ordered by the follow's time).
    Followers,
    /// Whom the user follows.
    Following,
    /// Whom the user follows and is followed back by (ordered by the user's follow).
    Mutual,
}

/// Graph storage. Arguments are already validated (no self-edges, limits in range);
/// `now` is the caller's clock, truncated to microseconds.
#[async_trait]
pub trait GraphStore: Send + Sync {
    /// Adds the follow edge unless a block exists either way (`PermissionDenied`);
    /// `true` if it is new. Counts change with it.
    async fn follow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool>;
    /// Removes the follow edge; `true` if there was one.
    async fn unfollow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool>;
    /// Adds the block and removes follows both ways, atomically; `true` if the block is new.
    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool>;
    /// Removes the block; `true` if there was one.
    async fn unblock(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool>;
    /// Creates or updates the mute; `true` if no active mute existed.
    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        settings: MuteSettings,
        now: Timestamp,
    ) -> Result<bool>;
    /// Removes the mute (even an expired one); `true` if there was one.
    async fn unmute(&self, muter: UserId, muted: UserId, now: Timestamp) -> Result<bool>;
    /// One relationship per pair, in order; one round trip.
    async fn relationships(
        &self,
        pairs: &[(UserId, UserId)],
        now: Timestamp,
    ) -> Result<Vec<Relationship>>;
    /// Up to `limit` entries of `list` after `after`, newest first, with their positions.
    async fn list(
        &self,
        list: EdgeList,
        user: UserId,
        after: Option<Position>,
        limit: u32,
    ) -> Result<Vec<Position>>;
    /// Stored counts, in order (zero for unknown users); one round trip.
    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>>;
    /// Friends-of-friends suggestions (see
    /// [`GraphApi::suggestions`](crate::GraphApi::suggestions)); one query.
    async fn suggestions(
        &self,
        user: UserId,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Suggestion>>;
    /// Users `user` blocks or is blocked by.
    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>>;
    /// Users whose stored counts differ from their edges (an audit; always empty unless
    /// something wrote edges around this store). Scans the whole graph.
    async fn count_drift(&self) -> Result<Vec<CountDrift>>;
}
