//! # nova-analytics
//!
//! Engagement analytics: what happened (never what was said), counted for creators and
//! operators.
//!
//! - **events** from the event log (registrations, sessions, posts and replies, likes,
//!   reposts, follows — ids and times only) and from clients (impressions and views,
//!   `POST /api/v1/analytics/events`, ≤ 500 per batch, signed in or not, rate-limited
//!   per caller); every event has an id and is stored once, however often it arrives;
//! - a bounded write-behind [`Buffer`](buffer::Buffer) flushing by size or time and
//!   draining on shutdown;
//! - two engines behind one [`AnalyticsStore`](store::AnalyticsStore): SQL
//!   (SQLite / PostgreSQL: raw events plus rollups written in the same transaction) and
//!   ClickHouse (feature `clickhouse`: a day-partitioned MergeTree with
//!   AggregatingMergeTree materialized views);
//! - queries, authorized here: an author sees their own posts' impressions, unique
//!   reach, engagement rate and first-48-hours series, and their follower growth and top
//!   posts (someone else's post is `NotFound`); the `admin` scope sees DAU/WAU/MAU,
//!   posts and sessions per day and D1/D7/D30 retention. A post seen by fewer than
//!   *k* distinct viewers shows ranges, not numbers;
//! - privacy: raw events expire by day; a deleted account is replaced by a random
//!   pseudonym everywhere; IP addresses are never stored.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_analytics::{AnalyticsApi, AnalyticsService, ClientEvent, EventKind};
//! use nova_analytics::store::SqlAnalyticsStore;
//! use nova_core::{Principal, SessionId, UserId};
//! use prost::Message;
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let analytics = AnalyticsService::new(Arc::new(SqlAnalyticsStore::new(db)))
//!     .with_k_anonymity(1);
//!
//! // The author's post, from the event log.
//! let author = Principal::user(UserId::new(), SessionId::new());
//! let created = nova_proto::nova::content::v1::PostCreated {
//!     post_id: "p1".into(),
//!     author_id: author.user_id.to_string(),
//!     ..Default::default()
//! };
//! let event = nova_events::EventEnvelope::new("post.created", "p1", chrono::Utc::now(), created.encode_to_vec());
//! analytics.ingest(&[event]).await?;
//!
//! // A signed-out reader's client reports an impression, twice.
//! let seen = ClientEvent { id: "e1".into(), kind: EventKind::Impression, post_id: "p1".into(), at: None, anonymous_id: Some("device-7".into()) };
//! analytics.record(None, vec![seen.clone()]).await?;
//! analytics.record(None, vec![seen]).await?;
//! analytics.buffer().flush().await?;
//!
//! let insights = analytics.post_insights(Some(&author), "p1").await?;
//! assert_eq!((insights.impressions.min, insights.reach.max), (1, 1));
//! // Nobody else may read them.
//! let other = Principal::user(UserId::new(), SessionId::new());
//! assert!(analytics.post_insights(Some(&other), "p1").await.is_err());
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod buffer;
pub mod events;
pub mod grpc;
pub mod http;
pub mod model;
mod service;
pub mod setup;
pub mod store;

pub use api::AnalyticsApi;
pub use buffer::{Buffer, BufferConfig};
pub use model::{
    AccountInsights, AdminStats, ClientEvent, DayFigures, Event, EventKind, Figure, FollowerDay,
    HourPoint, PostInsights, Retention, TopPost,
};
pub use service::{AnalyticsEvents, AnalyticsService, CONSUMER, DEFAULT_QUOTA, MAX_DAYS};
