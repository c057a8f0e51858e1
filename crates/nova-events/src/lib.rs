//! # nova-events
//!
//! How Nova's domains tell each other what happened, without losing anything:
//!
//! 1. A domain writes its state change **and** its [`EventEnvelope`]s in one database
//!    transaction ([`outbox::append_postgres`] / [`outbox::append_sqlite`]). Either both
//!    commit or neither does.
//! 2. A [`Relay`] reads committed, unpublished events from the outbox in order and hands
//!    them to an [`EventBus`], then marks them published. If it dies in between, it
//!    publishes them again: delivery is at-least-once.
//! 3. Consumers run an [`EventHandler`] per event. [`idempotency`] helpers make the
//!    handler's effect happen once per event id even when an event arrives twice.
//!
//! The embedded default bus, [`OutboxLogBus`], needs no broker: the outbox table itself is
//! the durable log. Publishing stamps each event with a gap-free log position, consumers
//! read by position and persist their offset, so a restart resumes exactly where it
//! stopped. The Kafka adapter (`KafkaBus`, cargo feature `kafka`; selected by
//! `KAFKA_BROKERS` in nova-runtime) implements the same [`EventBus`] port: topic per event
//! family, consumer groups, dead-letter topics. With it, several relays may share one
//! PostgreSQL outbox (`FOR UPDATE SKIP LOCKED`); per-aggregate order then holds within a
//! relay's batch, so deployments that need strict per-aggregate order run one relay.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_events::{EventEnvelope, OutboxLogBus, Relay, outbox};
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let store = outbox::store(&db);
//!
//! // A domain's transaction: state change + event, committed together.
//! let mut tx = db.sqlite().unwrap().writer.begin().await.map_err(nova_db::map_err)?;
//! let event = EventEnvelope::new("user.registered", "user-1", chrono::Utc::now(), b"payload".to_vec());
//! outbox::append_sqlite(&mut tx, std::slice::from_ref(&event)).await?;
//! tx.commit().await.map_err(nova_db::map_err)?;
//!
//! // The relay moves it onto the bus; a consumer reads it from the durable log.
//! let bus = Arc::new(OutboxLogBus::new(store.clone()));
//! let relay = Relay::new(store.clone(), bus.clone());
//! assert_eq!(relay.run_once().await?, 1);
//! let log = store.read_log(0, 10).await?;
//! assert_eq!(log[0].event.id, event.id);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

mod bus;
mod envelope;
pub mod idempotency;
#[cfg(feature = "kafka")]
pub mod kafka;
mod log_bus;
pub mod outbox;
mod prune;
mod relay;
pub mod types;

pub use bus::{EventBus, EventHandler, handler_fn};
pub use envelope::{DomainEvent, EventEnvelope};
#[cfg(feature = "kafka")]
pub use kafka::{KafkaBus, KafkaOptions};
pub use log_bus::{ConsumerOptions, OutboxLogBus};
pub use outbox::{AppendEvents, DeadLetter, LogEntry, OutboxStore, PruneHorizon, Pruned};
pub use prune::Pruner;
pub use relay::{Relay, RelayOptions, RelayWaker};
pub use tokio_util::sync::CancellationToken;
