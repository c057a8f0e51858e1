//! The embedded event bus: the outbox table as a durable, ordered log.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use nova_core::{Error, EventId, SharedClock, SystemClock};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{EventBus, EventEnvelope, EventHandler, LogEntry, OutboxStore};

/// How a consumer reads the log.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Events read (and offsets committed) per batch.
    pub batch_size: u32,
    /// Longest wait for new events when no wake-up arrives (other processes may append).
    pub poll_interval: Duration,
    /// Attempts per event before it becomes a dead letter.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    pub retry_backoff: Duration,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            batch_size: 256,
            poll_interval: Duration::from_millis(200),
            max_attempts: 5,
            retry_backoff: Duration::from_millis(50),
        }
    }
}

/// [`EventBus`] over the outbox table: no broker, nothing lost across restarts.
///
/// Publishing gives events their log positions; each consumer reads after its committed
/// offset and commits after its handler succeeded, so delivery is at-least-once and in
/// order. Consumers in the same process are woken at once; others poll.
pub struct OutboxLogBus {
    store: Arc<dyn OutboxStore>,
    clock: SharedClock,
    options: ConsumerOptions,
    head: watch::Sender<i64>,
    service: String,
}

impl OutboxLogBus {
    /// A bus over `store` with default consumer options.
    pub fn new(store: Arc<dyn OutboxStore>) -> Self {
        Self {
            store,
            clock: SystemClock::shared(),
            options: ConsumerOptions::default(),
            head: watch::Sender::new(0),
            service: "nova".to_owned(),
        }
    }

    /// Changes the consumer options.
    pub fn with_options(mut self, options: ConsumerOptions) -> Self {
        self.options = options;
        self
    }

    /// The `service` label on consumer metrics (default `nova`).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Uses `clock` for published/processed timestamps.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Delivers one entry: retries with exponential backoff, then dead-letters it.
    /// `Err` only when shutdown interrupted the retries (the entry is not done).
    async fn deliver(
        &self,
        consumer: &str,
        handler: &dyn EventHandler,
        entry: &LogEntry,
        shutdown: &CancellationToken,
    ) -> Result<(), ()> {
        let mut delay = self.options.retry_backoff;
        for attempt in 1..=self.options.max_attempts.max(1) {
            // A panicking handler is a failed attempt, not a dead consumer.
            let outcome = AssertUnwindSafe(handler.handle(&entry.event))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(Error::internal("event handler panicked")));
            let error = match outcome {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            tracing::warn!(consumer, event_id = %entry.event.id, event_type = %entry.event.event_type, attempt, error = %error, "event handler failed");
            if attempt == self.options.max_attempts.max(1) {
                let recorded = self
                    .store
                    .record_dead_letter(
                        consumer,
                        entry,
                        attempt as i32,
                        &error.to_string(),
                        self.clock.now(),
                    )
                    .await;
                if let Err(e) = recorded {
                    // Without the dead letter we must not skip the event: retry later.
                    tracing::error!(consumer, error = %e, "cannot record dead letter");
                    return Err(());
                }
                return Ok(());
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Err(()),
                _ = tokio::time::sleep(delay) => {}
            }
            delay = delay.saturating_mul(2);
        }
        Ok(())
    }
}

#[async_trait]
impl EventBus for OutboxLogBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), Error> {
        let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
        self.store.append_to_log(&ids, self.clock.now()).await?;
        let head = self.store.log_head().await?;
        self.head.send_replace(head);
        Ok(())
    }

    async fn consume(
        &self,
        consumer: &str,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let mut wake = self.head.subscribe();
        let mut offset = self.store.consumer_offset(consumer).await?;
        let lag = metrics::gauge!(
            "nova_events_consumer_lag",
            "service" => self.service.clone(),
            "consumer" => consumer.to_owned()
        );
        while !shutdown.is_cancelled() {
            let batch = match self.store.read_log(offset, self.options.batch_size).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(consumer, error = %e, "reading the event log failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(self.options.poll_interval) => continue,
                    }
                }
            };
            if batch.is_empty() {
                lag.set(0.0);
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = wake.changed() => {}
                    _ = tokio::time::sleep(self.options.poll_interval) => {}
                }
                continue;
            }
            let mut done = offset;
            for entry in &batch {
                if self
                    .deliver(consumer, handler.as_ref(), entry, &shutdown)
                    .await
                    .is_err()
                {
                    break;
                }
                done = entry.position;
            }
            if done > offset {
                // A failed commit only means some events are delivered again.
                match self
                    .store
                    .commit_offset(consumer, done, self.clock.now())
                    .await
                {
                    Ok(()) => offset = done,
                    Err(e) => tracing::warn!(consumer, error = %e, "committing offset failed"),
                }
            }
            if let Ok(head) = self.store.log_head().await {
                lag.set((head - offset).max(0) as f64);
            }
        }
        Ok(())
    }
}
