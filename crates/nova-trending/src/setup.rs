//! Trending in a process, from configuration: the service restored from the last SQL
//! snapshot, a snapshot every `TRENDING_SNAPSHOT_INTERVAL_SECS` and one more on shutdown,
//! and the (deduplicating) consumer of the content domain's events. Shared by
//! `ranking-service` and the `nova` all-in-one.
//!
//! ```no_run
//! # async fn run(config: nova_core::config::NovaConfig, db: nova_db::Db) -> Result<(), String> {
//! use nova_events::CancellationToken;
//!
//! let stop = CancellationToken::new();
//! let trending = nova_trending::setup::embedded(&config, &db, stop.clone()).await?;
//! // bus.consume("ranking-trending", trending.consumer.clone(), stop.clone()) ...
//! // serve nova_trending::http::router(trending.api.clone()) ...
//! stop.cancel();
//! trending.snapshots.await.ok(); // the last snapshot is written before this returns
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use nova_core::SystemClock;
use nova_core::config::NovaConfig;
use nova_db::Db;
use nova_events::idempotency::Idempotent;
use nova_events::{CancellationToken, EventHandler, outbox};
use tokio::task::JoinHandle;

use crate::api::TrendingApi;
use crate::config::TrendingConfig;
use crate::consumer::EngagementConsumer;
use crate::service::TrendingService;

/// The variable naming the snapshot interval in seconds.
pub const SNAPSHOT_INTERVAL_VAR: &str = "TRENDING_SNAPSHOT_INTERVAL_SECS";

/// The snapshot interval when the variable is unset.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(60);

/// The consumer group trending reads content events as.
pub const CONSUMER: &str = "ranking-trending";

/// `TRENDING_SNAPSHOT_INTERVAL_SECS` (a whole number of seconds, at least 1), or the
/// default; the error is one line naming the variable.
pub fn snapshot_interval(config: &NovaConfig) -> Result<Duration, String> {
    let secs = config
        .source
        .get_with(
            SNAPSHOT_INTERVAL_VAR,
            "a whole number of seconds >= 1",
            |v| v.parse::<u64>().ok().filter(|&s| s >= 1),
        )
        .map_err(|e| e.to_string())?;
    Ok(secs.map_or(DEFAULT_SNAPSHOT_INTERVAL, Duration::from_secs))
}

/// Writes a snapshot of `service` every `every` until `stop` is cancelled, then one last
/// time, so a restart loses at most `every` of events (none on an orderly shutdown).
/// A failed snapshot is logged and retried at the next tick.
pub fn spawn_snapshots(
    service: Arc<TrendingService>,
    every: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate: nothing new to save yet
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = ticks.tick() => save(&service, "periodic").await,
            }
        }
        save(&service, "shutdown").await;
    })
}

async fn save(service: &TrendingService, why: &'static str) {
    match service.snapshot().await {
        Ok(rows) => tracing::debug!(rows, why, "trending: snapshot saved"),
        Err(error) => tracing::error!(%error, why, "trending: snapshot failed"),
    }
}

/// Trending wired for one process.
pub struct Embedded {
    /// The API (the in-process service).
    pub api: Arc<dyn TrendingApi>,
    /// The service itself (snapshots, diagnostics).
    pub service: Arc<TrendingService>,
    /// The handler for the content domain's events, deduplicated by event id: subscribe it
    /// as [`CONSUMER`].
    pub consumer: Arc<dyn EventHandler>,
    /// The snapshot task: it ends after the last snapshot once the stop token is
    /// cancelled (await it before closing the database).
    pub snapshots: JoinHandle<()>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").finish_non_exhaustive()
    }
}

/// Starts trending on `db` (restoring its last snapshot) with the default engine
/// configuration, snapshots every [`snapshot_interval`] until `stop`.
pub async fn embedded(
    config: &NovaConfig,
    db: &Db,
    stop: CancellationToken,
) -> Result<Embedded, String> {
    let every = snapshot_interval(config)?;
    let service = TrendingService::start(
        TrendingConfig::default(),
        crate::store::store(db),
        SystemClock::shared(),
    )
    .await
    .map_err(|e| format!("trending: cannot restore the snapshot: {e}"))?;
    let service = Arc::new(service);
    let api: Arc<dyn TrendingApi> = service.clone();
    let consumer: Arc<dyn EventHandler> = Arc::new(Idempotent::new(
        CONSUMER,
        outbox::store(db),
        Arc::new(EngagementConsumer::new(api.clone())),
    ));
    let snapshots = spawn_snapshots(service.clone(), every, stop);
    Ok(Embedded {
        api,
        service,
        consumer,
        snapshots,
    })
}
