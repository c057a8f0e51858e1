//! The transactional outbox and the durable event log built on it.

mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, EventId, Timestamp};
use nova_db::Db;

use crate::{EventBus, EventEnvelope};

pub use postgres::{PostgresOutbox, append_postgres};
pub use sqlite::{SqliteOutbox, append_sqlite};

/// An event at its position in the durable log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Gap-free, strictly increasing position (1, 2, 3, ...).
    pub position: i64,
    /// The event.
    pub event: EventEnvelope,
}

/// An event a consumer gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The consumer.
    pub consumer: String,
    /// The event.
    pub event_id: EventId,
    /// Its log position.
    pub position: i64,
    /// How often the handler was tried.
    pub attempts: i32,
    /// The last error's message.
    pub last_error: String,
}

/// What [`OutboxStore::prune`] may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneHorizon {
    /// Only events published, and processed-marks recorded, before this instant: the
    /// safety window within which a redelivery may still come.
    pub before: Timestamp,
    /// The outbox is the log itself (the embedded bus): an entry also stays until every
    /// consumer has committed past it, so a lagging consumer holds pruning back. With an
    /// external bus (Kafka) the broker keeps the log, and a published row is only the
    /// relay's record.
    pub log: bool,
}

/// How much [`OutboxStore::prune`] deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Outbox / log rows.
    pub events: u64,
    /// Processed-event marks (the consumers' deduplication records).
    pub processed: u64,
}

/// Rows deleted per statement, so pruning a large backlog never holds the (SQLite: only)
/// writer for long.
const PRUNE_BATCH: i64 = 5_000;

/// Storage behind the outbox, the relay and the in-process log.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Appends events in a transaction of their own (for callers that have none; domains
    /// use [`append_postgres`] / [`append_sqlite`] inside theirs).
    async fn append(&self, events: &[EventEnvelope]) -> Result<(), Error>;

    /// Up to `limit` committed events not yet published, oldest first.
    async fn fetch_unpublished(&self, limit: u32) -> Result<Vec<EventEnvelope>, Error>;

    /// Marks events as handed to the bus.
    async fn mark_published(&self, ids: &[EventId], at: Timestamp) -> Result<(), Error>;

    /// Relays one batch to an external `bus`: claims up to `limit` unpublished events,
    /// publishes them, marks them published; returns how many. A crash between publish
    /// and mark leaves them unpublished, so they are published again (consumers dedup).
    ///
    /// PostgreSQL claims with `FOR UPDATE SKIP LOCKED` inside one transaction, so
    /// concurrent relays take disjoint batches. SQLite has a single writer and one relay.
    async fn relay_batch(
        &self,
        limit: u32,
        bus: &dyn EventBus,
        at: Timestamp,
    ) -> Result<usize, Error> {
        let events = self.fetch_unpublished(limit).await?;
        if events.is_empty() {
            return Ok(0);
        }
        bus.publish(&events).await?;
        let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
        self.mark_published(&ids, at).await?;
        Ok(events.len())
    }

    /// Gives the events (those that have none yet) the next log positions, in outbox
    /// order, and marks them published. Positions become visible in order: a reader never
    /// sees position `n + 1` before `n`. Returns how many were newly positioned.
    async fn append_to_log(&self, ids: &[EventId], at: Timestamp) -> Result<u64, Error>;

    /// Up to `limit` log entries after `position`, in order.
    async fn read_log(&self, after: i64, limit: u32) -> Result<Vec<LogEntry>, Error>;

    /// The last position handed out (0 when the log is empty).
    async fn log_head(&self) -> Result<i64, Error>;

    /// A consumer's committed position (0 when it never committed).
    async fn consumer_offset(&self, consumer: &str) -> Result<i64, Error>;

    /// Commits a consumer's position; never moves it backwards.
    async fn commit_offset(
        &self,
        consumer: &str,
        position: i64,
        at: Timestamp,
    ) -> Result<(), Error>;

    /// Records `event_id` as processed by `consumer`; `false` if it already was.
    async fn try_mark_processed(
        &self,
        consumer: &str,
        event_id: EventId,
        at: Timestamp,
    ) -> Result<bool, Error>;

    /// Whether `consumer` has recorded `event_id` as processed.
    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, Error>;

    /// Sets an event aside after its handler kept failing.
    async fn record_dead_letter(
        &self,
        consumer: &str,
        entry: &LogEntry,
        attempts: i32,
        error: &str,
        at: Timestamp,
    ) -> Result<(), Error>;

    /// A consumer's dead letters, oldest first.
    async fn dead_letters(&self, consumer: &str) -> Result<Vec<DeadLetter>, Error>;

    /// Deletes published events and processed-marks older than `horizon.before`; in log
    /// mode only entries every consumer has committed past (none while no consumer has
    /// committed). Never unpublished events, never dead letters, never the log head, so
    /// positions keep counting up.
    async fn prune(&self, horizon: PruneHorizon) -> Result<Pruned, Error>;
}

/// Appending to the outbox from inside a domain transaction, whatever the engine:
/// `tx.append_events(&events).await?` (used with [`nova_db::on_db!`]).
#[async_trait]
pub trait AppendEvents {
    /// Appends `events` in this connection's transaction.
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), Error>;
}

#[async_trait]
impl AppendEvents for sqlx::PgConnection {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), Error> {
        append_postgres(self, events).await
    }
}

#[async_trait]
impl AppendEvents for sqlx::SqliteConnection {
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), Error> {
        append_sqlite(self, events).await
    }
}

/// The outbox store for `db`'s engine.
pub fn store(db: &Db) -> Arc<dyn OutboxStore> {
    match db {
        Db::Postgres(pool) => Arc::new(PostgresOutbox::new(pool.clone())),
        Db::Sqlite(sqlite) => Arc::new(SqliteOutbox::new(sqlite.clone())),
    }
}

/// Columns read back from the outbox, shared by both engines.
type Row = (uuid::Uuid, String, String, Timestamp, Vec<u8>);

/// A log entry as read back (position first).
type LogRow = (i64, uuid::Uuid, String, String, Timestamp, Vec<u8>);

/// A dead letter as read back.
type DeadLetterRow = (String, uuid::Uuid, i64, i32, String);

fn log_entry((position, id, t, a, o, p): LogRow) -> LogEntry {
    LogEntry {
        position,
        event: envelope((id, t, a, o, p)),
    }
}

fn dead_letter((consumer, id, position, attempts, last_error): DeadLetterRow) -> DeadLetter {
    DeadLetter {
        consumer,
        event_id: EventId::from_uuid(id),
        position,
        attempts,
        last_error,
    }
}

fn envelope((id, event_type, aggregate_id, occurred_at, payload): Row) -> EventEnvelope {
    EventEnvelope {
        id: EventId::from_uuid(id),
        event_type,
        aggregate_id,
        occurred_at,
        payload,
    }
}
