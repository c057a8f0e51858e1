//! Wiring the feed into a process: its settings from the environment, the timeline store
//! (Redis when `REDIS_URL` is set, in-process otherwise), the service and its event
//! consumer. `feed-service` and the all-in-one `nova` both start it through [`embedded`].

use std::sync::Arc;

use chrono::Duration;
use nova_content::ContentApi;
use nova_core::SystemClock;
use nova_core::config::NovaConfig;
use nova_core::cursor::CursorCodec;
use nova_db::Db;
use nova_events::idempotency::Idempotent;
use nova_events::{EventHandler, outbox};
use nova_graph::GraphApi;
use nova_kv::PubSub;
use nova_ranking::RankingApi;
use nova_trending::TrendingApi;

use crate::api::FeedApi;
use crate::fanout::FeedEvents;
use crate::service::{FeedConfig, FeedService};
use crate::store::{MemoryTimelineStore, RedisTimelineStore, TimelineStore};

/// The consumer (group) name of the feed's event handler.
pub const CONSUMER: &str = "feed";

/// Prefix of the feed's Redis keys (`nova:feed:l:h:{user}`, ...).
pub const REDIS_PREFIX: &str = "nova:";

/// The feed settings from `FEED_FANOUT_THRESHOLD`, `FEED_TIMELINE_CAP` and
/// `FEED_INACTIVE_DAYS`; the error is one line naming the variable.
pub fn config(config: &NovaConfig) -> Result<FeedConfig, String> {
    let src = &config.source;
    let mut feed = FeedConfig::default();
    if let Some(n) = src
        .get::<u64>("FEED_FANOUT_THRESHOLD", "a whole number of followers")
        .map_err(|e| e.to_string())?
    {
        feed.fanout_threshold = n;
    }
    if let Some(n) = src
        .get_with(
            "FEED_TIMELINE_CAP",
            "a whole number from 20 to 10000",
            |s| {
                s.parse::<usize>()
                    .ok()
                    .filter(|n| (20..=10_000).contains(n))
            },
        )
        .map_err(|e| e.to_string())?
    {
        feed.timeline_cap = n;
    }
    if let Some(days) = src
        .get_with(
            "FEED_INACTIVE_DAYS",
            "a whole number of days from 1 to 3650",
            |s| s.parse::<i64>().ok().filter(|n| (1..=3650).contains(n)),
        )
        .map_err(|e| e.to_string())?
    {
        feed.inactive_after = Duration::days(days);
    }
    Ok(feed)
}

/// Redis timelines when `REDIS_URL` is set, else in-process ones.
pub async fn timeline_store(config: &NovaConfig) -> Result<Arc<dyn TimelineStore>, String> {
    match config.redis_url.as_deref() {
        Some(url) if !url.trim().is_empty() => Ok(Arc::new(
            RedisTimelineStore::connect(url, REDIS_PREFIX)
                .await
                .map_err(|e| format!("cannot reach Redis at REDIS_URL for timelines: {e}"))?,
        )),
        _ => Ok(Arc::new(MemoryTimelineStore::default())),
    }
}

/// The domains the feed reads from, local or remote.
#[derive(Clone)]
pub struct Domains {
    /// Posts (hydration, author timelines).
    pub content: Arc<dyn ContentApi>,
    /// Follows, blocks, mutes.
    pub graph: Arc<dyn GraphApi>,
    /// Ranked reads and catch-up (newest first without).
    pub ranking: Option<Arc<dyn RankingApi>>,
    /// Out-of-network posts and explore (none without).
    pub trending: Option<Arc<dyn TrendingApi>>,
}

/// The feed, ready to serve and consume.
pub struct Embedded {
    /// The API, for routers, gRPC and the gateway.
    pub api: Arc<dyn FeedApi>,
    /// The service itself (fan-out, rebuild).
    pub service: Arc<FeedService>,
    /// `(consumer name, handler)` pairs to run on the event bus (`infra.consume`).
    pub consumers: Vec<(&'static str, Arc<dyn EventHandler>)>,
}

/// Starts the feed over `domains`, timelines per [`timeline_store`], new-post
/// notifications on `pubsub` (Redis pub/sub across replicas, in-process otherwise), its
/// consumer deduplicating by event id in `db`'s outbox tables.
pub async fn embedded(
    config: &NovaConfig,
    db: &Db,
    pubsub: Arc<dyn PubSub>,
    domains: Domains,
    cursors: CursorCodec,
) -> Result<Embedded, String> {
    let feed_config = self::config(config)?;
    let store = timeline_store(config).await?;
    let mut service = FeedService::new(
        store,
        domains.content,
        domains.graph,
        pubsub,
        SystemClock::shared(),
        cursors,
    )
    .with_config(feed_config);
    if let Some(ranking) = domains.ranking {
        service = service.with_ranking(ranking);
    }
    if let Some(trending) = domains.trending {
        service = service.with_trending(trending);
    }
    let service = Arc::new(service);
    let handler: Arc<dyn EventHandler> = Arc::new(Idempotent::new(
        CONSUMER,
        outbox::store(db),
        Arc::new(FeedEvents::new(service.clone())),
    ));
    Ok(Embedded {
        api: service.clone(),
        service,
        consumers: vec![(CONSUMER, handler)],
    })
}
