//! The timeline store port: materialised, capped lists of post ids per timeline.
//!
//! A timeline is either **materialised** (built from SQL once, then kept up to date by
//! fan-out) or **absent** (never built, evicted, or lost with a flushed cache). Fan-out
//! writes only matter for materialised timelines; reading an absent one answers `None`,
//! and the service rebuilds it from SQL. So a lost cache costs a rebuild, never a blank
//! feed, and fan-out never creates a half-filled timeline that looks complete.
//!
//! Entries order by post id (UUIDv7: creation time), newest first; a page continues
//! strictly below a post id, so pages stay stable while newer posts arrive.

pub mod memory;
pub mod redis;

use async_trait::async_trait;
use nova_core::{PostId, Result, Timestamp, UserId};

pub use memory::MemoryTimelineStore;
pub use redis::RedisTimelineStore;

/// Which timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimelineKey {
    /// A user's home timeline (posts of the accounts they follow).
    Home(UserId),
    /// An author's own recent posts, kept for accounts pulled at read time (celebrities).
    Author(UserId),
}

/// One timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    /// The post (first: entries order by it).
    pub post: PostId,
    /// Its author (kept so an unfollow or block can remove an author's posts).
    pub author: UserId,
}

impl Entry {
    /// An entry.
    pub const fn new(post: PostId, author: UserId) -> Self {
        Self { post, author }
    }
}

/// Where timelines live: Redis for the k8s services, this process for the embedded one.
///
/// Every method is one round trip (pipelined) whatever the number of timelines.
#[async_trait]
pub trait TimelineStore: Send + Sync {
    /// Adds `entry` to each of `timelines` that is materialised, keeping the newest `cap`
    /// entries of each (the fan-out write).
    async fn push(&self, timelines: &[TimelineKey], entry: Entry, cap: usize) -> Result<()>;

    /// Adds `entries` to one timeline if materialised, keeping the newest `cap` (a
    /// follow's backfill).
    async fn insert(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()>;

    /// Replaces a timeline with `entries` (newest `cap` kept) and marks it materialised.
    async fn rebuild(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()>;

    /// Up to `limit` entries older than `before` (all when `None`), newest first; `None`
    /// when the timeline is not materialised.
    async fn page(
        &self,
        timeline: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>>;

    /// Removes every entry by `author`; returns how many.
    async fn remove_author(&self, timeline: TimelineKey, author: UserId) -> Result<usize>;

    /// Removes `entry` from each of `timelines`.
    async fn remove(&self, timelines: &[TimelineKey], entry: Entry) -> Result<()>;

    /// Forgets a timeline (it becomes absent).
    async fn clear(&self, timeline: TimelineKey) -> Result<()>;

    /// Records a home visit by `user` at `at`; returns the previous visit.
    async fn visit(&self, user: UserId, at: Timestamp) -> Result<Option<Timestamp>>;

    /// The last home visit of each user, in the order asked.
    async fn last_visits(&self, users: &[UserId]) -> Result<Vec<Option<Timestamp>>>;

    /// Marks or unmarks `author` as pulled at read time (more followers than the
    /// fan-out threshold).
    async fn set_pulled(&self, author: UserId, pulled: bool) -> Result<()>;

    /// Which of `authors` are pulled at read time, in the order asked.
    async fn pulled(&self, authors: &[UserId]) -> Result<Vec<bool>>;
}
