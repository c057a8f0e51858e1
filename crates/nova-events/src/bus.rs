//! The event bus port.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::Error;
use tokio_util::sync::CancellationToken;

use crate::EventEnvelope;

/// Where the relay publishes and consumers subscribe: the in-process log by default,
/// Kafka when `KAFKA_BROKERS` is set. Consumer code is the same either way.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes a batch, in order. Must be safe to call again with events already
    /// published (the relay retries after a crash); consumers deduplicate.
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), Error>;

    /// Runs `handler` for every event, as consumer (group) `consumer`, until `shutdown`
    /// is cancelled. Delivery is at-least-once: an event whose handler fails is retried,
    /// and after repeated failures set aside as a dead letter so later events keep
    /// flowing.
    async fn consume(
        &self,
        consumer: &str,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), Error>;

    /// Whether the bus lives outside the outbox tables (a broker). The relay then claims
    /// its batch with row locks (`FOR UPDATE SKIP LOCKED` on PostgreSQL) held while it
    /// publishes, so several relays share the outbox without publishing the same rows.
    /// The embedded log writes those very rows when it publishes, so it says `false`.
    fn external(&self) -> bool {
        false
    }

    /// Whether the bus's backend answers (a readiness check; the embedded log lives in
    /// the database, which has its own check).
    async fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Reacts to one event. Must tolerate seeing the same event twice (see
/// [`crate::idempotency`]).
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Handles the event; an error means "retry later".
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error>;
}

struct FnHandler<F>(F);

#[async_trait]
impl<F, Fut> EventHandler for FnHandler<F>
where
    F: Fn(EventEnvelope) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), Error>> + Send,
{
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        (self.0)(event.clone()).await
    }
}

/// A handler from an async closure.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn EventHandler>
where
    F: Fn(EventEnvelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    Arc::new(FnHandler(f))
}
