//! Plain graph types, as the API speaks them.

use nova_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Largest page [`GraphApi`](crate::GraphApi) list methods return; larger `first` values
/// are capped to it.
pub const MAX_PAGE: u32 = 100;

/// Largest batch of pairs or users one lookup accepts (one statement / query each).
pub const MAX_BATCH: usize = 1000;

/// How `first = 0` is read: the default page size.
pub const DEFAULT_PAGE: u32 = 20;

/// One page of a cursor-paginated list: shared by every domain, so it lives in
/// nova-core (re-exported here for the graph's callers).
pub use nova_core::Page;

/// How `from` relates to `to`, as seen from `from` (one entry per asked pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Relationship {
    /// The first user of the pair.
    pub from: UserId,
    /// The second user of the pair.
    pub to: UserId,
    /// `from` follows `to`.
    pub following: bool,
    /// `to` follows `from`.
    pub followed_by: bool,
    /// `from` blocks `to`.
    pub blocking: bool,
    /// `to` blocks `from`.
    pub blocked_by: bool,
    /// `from` has an active (unexpired) mute on `to`.
    pub muting: bool,
    /// That active mute hides only `to`'s reposts.
    pub muting_reposts_only: bool,
}

impl Relationship {
    /// A block exists in either direction.
    pub fn blocked_either_way(&self) -> bool {
        self.blocking || self.blocked_by
    }
}

/// Stored follow counts of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowCounts {
    /// The user.
    pub user: UserId,
    /// How many users follow them.
    pub followers: u64,
    /// How many users they follow.
    pub following: u64,
}

/// A friends-of-friends suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The suggested user.
    pub user: UserId,
    /// How many of the users the asker follows follow them.
    pub mutual_connections: u64,
}

/// A mute as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteSettings {
    /// When it stops applying; `None` = until unmuted.
    pub until: Option<Timestamp>,
    /// Only reposts are hidden.
    pub reposts_only: bool,
}

/// A user whose stored counts disagree with the edges (see
/// [`GraphStore::count_drift`](crate::store::GraphStore::count_drift)); never expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountDrift {
    /// The user.
    pub user: UserId,
    /// Stored `(followers, following)`.
    pub stored: (u64, u64),
    /// Counted from the edges `(followers, following)`.
    pub actual: (u64, u64),
}
