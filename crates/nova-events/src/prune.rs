//! Event-log retention: the outbox would otherwise grow by every event forever.

use std::sync::Arc;
use std::time::Duration;

use nova_core::{Error, SharedClock, SystemClock};
use tokio_util::sync::CancellationToken;

use crate::{OutboxStore, PruneHorizon, Pruned};

/// Deletes, every `interval`, the events and processed-marks older than `retention` that
/// no consumer still needs (see [`OutboxStore::prune`]).
///
/// `retention` is the safety window: a redelivery (a consumer restarting before its
/// commit, a broker replaying from committed offsets) must come within it, or the
/// consumer's deduplication no longer remembers the event. In log mode a consumer that
/// stops committing holds every later entry back; its `nova_events_consumer_lag` grows
/// and alerts, rather than events being deleted under it.
pub struct Pruner {
    store: Arc<dyn OutboxStore>,
    clock: SharedClock,
    retention: Duration,
    interval: Duration,
    log: bool,
    service: String,
}

impl Pruner {
    /// Prunes `store` keeping `retention`; `log` when the outbox is the embedded log.
    pub fn new(store: Arc<dyn OutboxStore>, retention: Duration, log: bool) -> Self {
        Self {
            store,
            clock: SystemClock::shared(),
            retention,
            // Often enough that a backlog never builds up, rarely enough to cost nothing.
            interval: (retention / 24).clamp(Duration::from_secs(1), Duration::from_secs(3600)),
            log,
            service: "nova".to_owned(),
        }
    }

    /// The `service` label on the pruning metrics (default `nova`).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Uses `clock` for the horizon.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// One pass: deletes what is past the horizon now.
    pub async fn prune_once(&self) -> Result<Pruned, Error> {
        let retention = chrono::Duration::from_std(self.retention)
            .map_err(|_| Error::internal("event retention out of range"))?;
        let pruned = self
            .store
            .prune(PruneHorizon {
                before: self.clock.now() - retention,
                log: self.log,
            })
            .await?;
        for (what, n) in [("events", pruned.events), ("processed", pruned.processed)] {
            metrics::counter!("nova_events_pruned_total", "service" => self.service.clone(), "what" => what)
                .increment(n);
        }
        Ok(pruned)
    }

    /// Prunes every interval until `shutdown`; a failed pass is logged and tried again.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
            match self.prune_once().await {
                Ok(pruned) if pruned != Pruned::default() => {
                    tracing::debug!(
                        events = pruned.events,
                        processed = pruned.processed,
                        "pruned the event log"
                    );
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "pruning the event log failed; trying again later")
                }
            }
        }
    }
}
