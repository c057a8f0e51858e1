//! Builds the analytics domain from the configuration: ClickHouse when `CLICKHOUSE_URL`
//! is set (database `CLICKHOUSE_DATABASE`, default `nova`), else the SQL store on the
//! process's database; the buffer drained at shutdown, raw events expired daily after
//! `ANALYTICS_RETENTION_DAYS` (default 90). The variables are declared in nova-core's
//! `ENV_VARS`.

use std::sync::Arc;
use std::time::Duration;

use nova_core::config::NovaConfig;
use nova_db::Db;
use nova_events::CancellationToken;
use nova_kv::RateLimiter;
use tokio::task::JoinHandle;

use crate::service::{AnalyticsService, DEFAULT_QUOTA};
use crate::store::{AnalyticsStore, SqlAnalyticsStore};

pub use crate::service::CONSUMER;

/// The built domain and its background work.
pub struct Built {
    /// The service.
    pub service: Arc<AnalyticsService>,
    /// Drains the buffer at shutdown and expires old events daily; await it at shutdown.
    pub task: JoinHandle<()>,
    /// Where the events go, for the log.
    pub engine: &'static str,
}

/// Builds the service over ClickHouse or `db`, rate-limited with `limiter`; its task
/// stops (after draining) when `stop` is cancelled.
pub async fn build(
    config: &NovaConfig,
    db: &Db,
    limiter: Arc<dyn RateLimiter>,
    stop: CancellationToken,
) -> Result<Built, String> {
    let retention: u32 = config
        .source
        .get_with(
            "ANALYTICS_RETENTION_DAYS",
            "a number of days (1 or more)",
            |s| s.parse().ok().filter(|d: &u32| *d > 0),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or(90);
    let (store, engine) = store(config, db).await?;
    let service = Arc::new(AnalyticsService::new(store).with_rate_limit(limiter, DEFAULT_QUOTA));
    let background = service.clone();
    let task = tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = daily.tick() => {
                    if let Err(error) = background.expire(retention).await {
                        tracing::warn!(%error, "analytics retention failed; retried tomorrow");
                    }
                }
            }
        }
        background.buffer().shutdown().await;
    });
    Ok(Built {
        service,
        task,
        engine,
    })
}

async fn store(
    config: &NovaConfig,
    db: &Db,
) -> Result<(Arc<dyn AnalyticsStore>, &'static str), String> {
    let url: Option<String> = config
        .source
        .raw("CLICKHOUSE_URL")
        .map(|(u, _)| u.to_owned());
    let Some(url) = url else {
        return Ok((Arc::new(SqlAnalyticsStore::new(db.clone())), "sql"));
    };
    clickhouse(config, &url).await
}

#[cfg(feature = "clickhouse")]
async fn clickhouse(
    config: &NovaConfig,
    url: &str,
) -> Result<(Arc<dyn AnalyticsStore>, &'static str), String> {
    let database = config
        .source
        .raw("CLICKHOUSE_DATABASE")
        .map_or_else(|| "nova".to_owned(), |(d, _)| d.to_owned());
    let store = crate::store::ClickHouseAnalyticsStore::connect(url, &database)
        .await
        .map_err(|e| format!("cannot use ClickHouse at CLICKHOUSE_URL={url}: {e}"))?;
    Ok((Arc::new(store), "clickhouse"))
}

#[cfg(not(feature = "clickhouse"))]
async fn clickhouse(
    _: &NovaConfig,
    _: &str,
) -> Result<(Arc<dyn AnalyticsStore>, &'static str), String> {
    Err("CLICKHOUSE_URL is set but this binary was built without ClickHouse support".to_owned())
}
