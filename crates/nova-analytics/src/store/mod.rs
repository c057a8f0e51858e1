//! The analytics Store port and its adapters: [`SqlAnalyticsStore`] (SQLite, PostgreSQL:
//! raw events plus rollups kept in the insert's transaction) and, with the `clickhouse`
//! feature, `ClickHouseAnalyticsStore` (day-partitioned MergeTree plus
//! AggregatingMergeTree materialized views).
//!
//! Days are day numbers since 1970-01-01 (UTC), hours are hours since the epoch.

#[cfg(feature = "clickhouse")]
mod clickhouse;
mod sql;

use async_trait::async_trait;
use nova_core::Result;

use crate::model::{Event, PostRank, PostTotals};

#[cfg(feature = "clickhouse")]
pub use clickhouse::ClickHouseAnalyticsStore;
pub use sql::SqlAnalyticsStore;

/// Analytics storage.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Stores the events whose id is not stored yet (a replay counts once); answers how
    /// many were new.
    async fn insert(&self, events: &[Event]) -> Result<u64>;
    /// Distinct active accounts per day in `from..=to` (days with none are left out).
    async fn daily_active(&self, from: i32, to: i32) -> Result<Vec<(i32, u64)>>;
    /// Distinct active accounts over `from..=to`.
    async fn active_between(&self, from: i32, to: i32) -> Result<u64>;
    /// Events of `kind` (`post`, `session`) per day in `from..=to`.
    async fn daily_count(&self, kind: &str, from: i32, to: i32) -> Result<Vec<(i32, u64)>>;
    /// Accounts registered on `cohort`, and how many of them were active `offset` days
    /// later, for each offset.
    async fn retention(&self, cohort: i32, offsets: &[i32]) -> Result<(u64, Vec<u64>)>;
    /// A post's author and creation hour, if its creation was recorded.
    async fn post(&self, post_id: &str) -> Result<Option<(String, i64)>>;
    /// A post's totals.
    async fn post_totals(&self, post_id: &str) -> Result<PostTotals>;
    /// A post's `(hour, impressions, engagements)` in `from..to` (hours with nothing are
    /// left out).
    async fn post_series(&self, post_id: &str, from: i64, to: i64) -> Result<Vec<(i64, u64, i64)>>;
    /// `(day, gained, lost)` followers of `user` per day in `from..=to`.
    async fn follower_days(&self, user: &str, from: i32, to: i32) -> Result<Vec<(i32, u64, u64)>>;
    /// `author`'s posts created since hour `since`, most engagements first (then most
    /// impressions), at most `limit`.
    async fn top_posts(&self, author: &str, since: i64, limit: u32) -> Result<Vec<PostRank>>;
    /// Replaces `user` by `pseudonym` wherever it is the actor or the target (a deleted
    /// account): counts stay, the account is no longer in them. Answers how many events
    /// changed (ClickHouse: the rewrite is scheduled, and counted as 0).
    async fn forget(&self, user: &str, pseudonym: &str) -> Result<u64>;
    /// Drops raw events of days before `before` (rollups stay).
    async fn expire(&self, before: i32) -> Result<()>;
}
