//! The outbox relay: committed events → the bus.

use std::sync::Arc;
use std::time::Duration;

use nova_core::{Error, EventId, SharedClock, SystemClock};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{EventBus, OutboxStore};

/// Relay tuning.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Events per publish.
    pub batch_size: u32,
    /// Longest wait between outbox scans when nobody wakes the relay.
    pub poll_interval: Duration,
    /// Wait after a failed scan or publish.
    pub error_backoff: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(100),
            error_backoff: Duration::from_millis(500),
        }
    }
}

/// Wakes the relay right after a commit, so events flow without waiting for the poll.
#[derive(Debug, Clone, Default)]
pub struct RelayWaker(Arc<Notify>);

impl RelayWaker {
    /// Asks the relay to scan now.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Moves committed outbox events onto an [`EventBus`], oldest first.
///
/// Publish happens before marking: a relay that dies in between publishes the batch
/// again after restart (at-least-once; consumers deduplicate by event id).
pub struct Relay {
    store: Arc<dyn OutboxStore>,
    bus: Arc<dyn EventBus>,
    clock: SharedClock,
    options: RelayOptions,
    waker: RelayWaker,
    service: String,
}

impl Relay {
    /// A relay from `store` to `bus`.
    pub fn new(store: Arc<dyn OutboxStore>, bus: Arc<dyn EventBus>) -> Self {
        Self {
            store,
            bus,
            clock: SystemClock::shared(),
            options: RelayOptions::default(),
            waker: RelayWaker::default(),
            service: "nova".to_owned(),
        }
    }

    /// Changes the options.
    pub fn with_options(mut self, options: RelayOptions) -> Self {
        self.options = options;
        self
    }

    /// Uses `clock` for `published_at`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The `service` label on the relay's metrics (default `nova`).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// A handle that wakes this relay.
    pub fn waker(&self) -> RelayWaker {
        self.waker.clone()
    }

    /// Publishes one batch; returns how many events it moved.
    pub async fn run_once(&self) -> Result<usize, Error> {
        let moved = if self.bus.external() {
            // A broker: claim, publish, mark (several relays may share the outbox).
            self.store
                .relay_batch(self.options.batch_size, self.bus.as_ref(), self.clock.now())
                .await?
        } else {
            // The embedded log stamps the rows itself while publishing.
            let events = self
                .store
                .fetch_unpublished(self.options.batch_size)
                .await?;
            if events.is_empty() {
                return Ok(0);
            }
            self.bus.publish(&events).await?;
            let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
            self.store.mark_published(&ids, self.clock.now()).await?;
            events.len()
        };
        if moved > 0 {
            metrics::counter!("nova_events_published_total", "service" => self.service.clone())
                .increment(moved as u64);
        }
        Ok(moved)
    }

    /// Runs until `shutdown`, then returns after finishing the batch in hand.
    pub async fn run(&self, shutdown: CancellationToken) {
        let waker = self.waker.0.clone();
        while !shutdown.is_cancelled() {
            let wait = match self.run_once().await {
                // A full batch: more are probably waiting.
                Ok(n) if n as u32 >= self.options.batch_size => continue,
                Ok(_) => self.options.poll_interval,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay failed; retrying");
                    self.options.error_backoff
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = waker.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
