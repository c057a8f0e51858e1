//! Handling an event once, although it may arrive more than once.
//!
//! Buses deliver at-least-once. A consumer whose effect lives in the same database should
//! record the event id **in the same transaction** as its effect, with
//! [`mark_processed_postgres`] / [`mark_processed_sqlite`]: if the id was already
//! recorded, skip the effect. Then a redelivered event changes nothing, and a crash before
//! commit loses neither the effect nor the record.
//!
//! [`Idempotent`] wraps any handler with the same check in separate steps; it is for
//! effects outside the database (a crash between effect and record can repeat the effect
//! once, so those effects must themselves tolerate a repeat).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, EventId, SharedClock, SystemClock, Timestamp};
use nova_db::DbResultExt;
use sqlx::{PgConnection, SqliteConnection};

use crate::{EventEnvelope, EventHandler, OutboxStore};

/// Records `event_id` for `consumer` in the caller's transaction; `false` when it was
/// already recorded (skip the effect).
pub async fn mark_processed_postgres(
    conn: &mut PgConnection,
    consumer: &str,
    event_id: EventId,
    at: Timestamp,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

/// SQLite twin of [`mark_processed_postgres`].
pub async fn mark_processed_sqlite(
    conn: &mut SqliteConnection,
    consumer: &str,
    event_id: EventId,
    at: Timestamp,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id.as_uuid())
    .bind(at)
    .execute(conn)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

/// Skips events `consumer` has already handled successfully.
pub struct Idempotent {
    consumer: String,
    store: Arc<dyn OutboxStore>,
    inner: Arc<dyn EventHandler>,
    clock: SharedClock,
}

impl Idempotent {
    /// Wraps `inner`.
    pub fn new(
        consumer: impl Into<String>,
        store: Arc<dyn OutboxStore>,
        inner: Arc<dyn EventHandler>,
    ) -> Self {
        Self {
            consumer: consumer.into(),
            store,
            inner,
            clock: SystemClock::shared(),
        }
    }
}

#[async_trait]
impl EventHandler for Idempotent {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        if self.store.is_processed(&self.consumer, event.id).await? {
            return Ok(());
        }
        // Record only after success, so a failed attempt is retried.
        self.inner.handle(event).await?;
        self.store
            .try_mark_processed(&self.consumer, event.id, self.clock.now())
            .await
            .map(|_| ())
    }
}
