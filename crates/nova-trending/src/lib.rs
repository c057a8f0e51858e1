//! # nova-trending
//!
//! What is trending, computed in memory with no I/O on the hot path, for global,
//! per-language and per-region scopes.
//!
//! - **Decayed scores in log space** ([`decay`]): each window (e.g. 1 h, 24 h, 7 d
//!   half-lives) keeps `ln Σ wᵢ·exp(λ·tᵢ)`; an event is O(1) (one multiply-add in the
//!   common case), nothing is rescanned, and ordering between entities never changes
//!   while no events arrive.
//! - **Trends are unusual growth**: [`TrendingEngine::trends`] compares the trend window's
//!   hourly rate with the baseline window's (`(observed − expected)² / expected`,
//!   observed ≥ `min_growth`× expected), requires `min_accounts` distinct accounts,
//!   ignores an account's events beyond `account_cap` per entity and period (a
//!   cache-line-blocked Count-Min sketch, [`CapSketch`]), and lets an
//!   entity that stopped trending return only after a `cooldown`.
//! - **Bounded memory**: each scope tracks at most `capacity` entities; newcomers to a full
//!   scope are counted in a [`CountMin`] sketch and displace a cold entry only once seen
//!   often enough (TinyLFU-style admission); per-window leaderboards keep the exact top
//!   `board_size`. Distinct accounts are exact up to 16, then a HyperLogLog ([`Distinct`]).
//! - **Review**: moderators approve or hide entities ([`ReviewState`]); with
//!   `require_review` only approved ones show.
//! - **Persistence and sharing** around the engine: SQL snapshots
//!   (`trending_scores`, `trending_metadata`) with restore ([`store`], [`TrendingService`]),
//!   a Redis sorted-set adapter for replicas ([`SharedLeaderboards`]), and the consumer
//!   of the content domain's engagement events ([`EngagementConsumer`]).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use nova_trending::{Engagement, EngagementKind, EntityKey, Scope, TrendingConfig, TrendingEngine};
//!
//! let mut engine = TrendingEngine::new(TrendingConfig::default())?;
//! let t0 = Utc.timestamp_opt(1_750_000_000, 0).unwrap();
//! let like = |tag: &str, account: u128, secs: i64| Engagement {
//!     entity: EntityKey::hashtag(tag),
//!     account,
//!     kind: EngagementKind::Like,
//!     at: t0 + chrono::Duration::seconds(secs),
//!     lang: None,
//!     region: None,
//! };
//! // A day of quiet, then twelve accounts like #eclipse within an hour.
//! engine.ingest(&like("hello", 0, 0));
//! for account in 1..=12 {
//!     engine.ingest(&like("Eclipse", account, 86_400 - 60 * account as i64));
//! }
//! let now = t0 + chrono::Duration::days(1);
//! let trends = engine.trends(&Scope::Global, 10, now);
//! assert_eq!(trends[0].entity, EntityKey::hashtag("#eclipse"));
//! assert_eq!(trends[0].accounts, 12);
//!
//! // Popularity per window, decayed to `now`.
//! let top = engine.top(&Scope::Global, "24h", 1, now)?;
//! assert_eq!(top[0].entity, EntityKey::hashtag("eclipse"));
//! # Ok::<(), nova_core::Error>(())
//! ```

pub mod api;
pub mod config;
pub mod consumer;
pub mod decay;
pub mod engine;
pub mod grpc;
pub mod http;
pub mod labels;
pub mod model;
pub mod service;
pub mod setup;
pub mod share;
pub mod sketch;
pub mod snapshot;
pub mod store;

mod board;
mod hash;
mod table;

pub use api::TrendingApi;
pub use config::{MAX_WINDOWS, TrendingConfig, WindowSpec};
pub use consumer::{EngagementConsumer, EngagementPayload};
pub use engine::{Stats, TrendingEngine};
pub use model::{
    Code, Engagement, EngagementKind, EntityKey, EntityKind, Ranked, ReviewState, Scope, Trend,
};
pub use service::TrendingService;
pub use share::{Leaders, SharedLeaderboards};
pub use sketch::{CapSketch, CountMin, Distinct};
pub use snapshot::{Snapshot, SnapshotRow};
pub use store::TrendingStore;
