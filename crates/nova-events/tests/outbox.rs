//! Outbox, relay and in-process log: one conformance suite run on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use nova_core::Error;
use nova_db::Db;
use nova_events::{
    ConsumerOptions, EventBus, EventEnvelope, EventHandler, OutboxLogBus, OutboxStore, Pruned,
    Pruner, Relay, RelayOptions, handler_fn, idempotency, outbox,
};
use tokio_util::sync::CancellationToken;

fn event(n: usize) -> EventEnvelope {
    EventEnvelope::new(
        "test.happened",
        format!("agg-{}", n % 7),
        chrono::Utc::now(),
        n.to_le_bytes().to_vec(),
    )
}

/// The table a pretend domain writes its state to.
async fn domain_table(db: &Db) {
    let sql = "CREATE TABLE domain_rows (n BIGINT NOT NULL)";
    match db {
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Db::Sqlite(s) => sqlx::query(sql).execute(&s.writer).await.map(|_| ()),
    }
    .unwrap();
}

/// A domain transaction: its own state change plus events, committed (or not) together.
async fn domain_write(db: &Db, events: &[EventEnvelope], commit: bool) {
    match db {
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("INSERT INTO domain_rows (n) VALUES ($1)")
                .bind(events.len() as i64)
                .execute(&mut *tx)
                .await
                .unwrap();
            outbox::append_postgres(&mut tx, events).await.unwrap();
            if commit {
                tx.commit().await.unwrap();
            }
        }
        Db::Sqlite(s) => {
            let mut tx = s.writer.begin().await.unwrap();
            sqlx::query("INSERT INTO domain_rows (n) VALUES (?)")
                .bind(events.len() as i64)
                .execute(&mut *tx)
                .await
                .unwrap();
            outbox::append_sqlite(&mut tx, events).await.unwrap();
            if commit {
                tx.commit().await.unwrap();
            }
        }
    }
}

/// A consumer whose effect (a row per event, counting applications) is written in the
/// same transaction as its idempotency record: exactly-once effect.
struct CountingConsumer {
    db: Db,
}

impl CountingConsumer {
    async fn setup(db: &Db) -> Arc<Self> {
        let sql = "CREATE TABLE IF NOT EXISTS effects (payload BLOB PRIMARY KEY, applied BIGINT NOT NULL)";
        match db {
            Db::Postgres(p) => {
                sqlx::query(&sql.replace("BLOB", "BYTEA"))
                    .execute(p)
                    .await
                    .unwrap();
            }
            Db::Sqlite(s) => {
                sqlx::query(sql).execute(&s.writer).await.unwrap();
            }
        }
        Arc::new(Self { db: db.clone() })
    }

    async fn effects(&self) -> Vec<(Vec<u8>, i64)> {
        let q = "SELECT payload, applied FROM effects";
        match &self.db {
            Db::Postgres(p) => sqlx::query_as(q).fetch_all(p).await.unwrap(),
            Db::Sqlite(s) => sqlx::query_as(q).fetch_all(&s.reader).await.unwrap(),
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for CountingConsumer {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        let now = chrono::Utc::now();
        match &self.db {
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(nova_db::map_err)?;
                if idempotency::mark_processed_postgres(&mut tx, "counter", event.id, now).await? {
                    sqlx::query("INSERT INTO effects (payload, applied) VALUES ($1, 1) ON CONFLICT (payload) DO UPDATE SET applied = effects.applied + 1")
                        .bind(&event.payload)
                        .execute(&mut *tx)
                        .await
                        .map_err(nova_db::map_err)?;
                }
                tx.commit().await.map_err(nova_db::map_err)
            }
            Db::Sqlite(s) => {
                let mut tx = s.writer.begin().await.map_err(nova_db::map_err)?;
                if idempotency::mark_processed_sqlite(&mut tx, "counter", event.id, now).await? {
                    sqlx::query("INSERT INTO effects (payload, applied) VALUES (?, 1) ON CONFLICT (payload) DO UPDATE SET applied = effects.applied + 1")
                        .bind(&event.payload)
                        .execute(&mut *tx)
                        .await
                        .map_err(nova_db::map_err)?;
                }
                tx.commit().await.map_err(nova_db::map_err)
            }
        }
    }
}

fn fast_consumer() -> ConsumerOptions {
    ConsumerOptions {
        batch_size: 64,
        poll_interval: Duration::from_millis(10),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(1),
    }
}

/// Runs `consumer` until it has committed the log head.
async fn drain(
    bus: &Arc<OutboxLogBus>,
    store: &Arc<dyn OutboxStore>,
    name: &str,
    handler: Arc<dyn EventHandler>,
) {
    let token = CancellationToken::new();
    let task = {
        let (bus, name, token) = (bus.clone(), name.to_owned(), token.clone());
        tokio::spawn(async move { bus.consume(&name, handler, token).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let head = store.log_head().await.unwrap();
        if store.consumer_offset(name).await.unwrap() >= head {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer {name} did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    token.cancel();
    task.await.unwrap().unwrap();
}

mod suite {
    use super::*;

    pub async fn committed_events_are_fetched_in_order(db: Db) {
        domain_table(&db).await;
        let store = outbox::store(&db);
        let events: Vec<_> = (0..5).map(event).collect();
        domain_write(&db, &events[..2], true).await;
        domain_write(&db, &events[2..], true).await;
        let fetched = store.fetch_unpublished(10).await.unwrap();
        assert_eq!(fetched, events);
        assert_eq!(store.fetch_unpublished(2).await.unwrap(), events[..2]);
    }

    pub async fn rolled_back_transactions_leave_no_event(db: Db) {
        domain_table(&db).await;
        let store = outbox::store(&db);
        domain_write(&db, &[event(1)], false).await;
        assert!(store.fetch_unpublished(10).await.unwrap().is_empty());
    }

    pub async fn published_events_are_not_fetched_again(db: Db) {
        let store = outbox::store(&db);
        let events: Vec<_> = (0..3).map(event).collect();
        store.append(&events).await.unwrap();
        store
            .mark_published(&[events[0].id], chrono::Utc::now())
            .await
            .unwrap();
        let left = store.fetch_unpublished(10).await.unwrap();
        assert_eq!(left, events[1..]);
    }

    pub async fn log_positions_are_gap_free_and_idempotent(db: Db) {
        let store = outbox::store(&db);
        let events: Vec<_> = (0..4).map(event).collect();
        store.append(&events).await.unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        let now = chrono::Utc::now();
        assert_eq!(store.append_to_log(&ids[..2], now).await.unwrap(), 2);
        // A second publish of the same events (relay retry) adds nothing.
        assert_eq!(store.append_to_log(&ids, now).await.unwrap(), 2);
        assert_eq!(store.append_to_log(&ids, now).await.unwrap(), 0);
        let log = store.read_log(0, 10).await.unwrap();
        let positions: Vec<i64> = log.iter().map(|e| e.position).collect();
        assert_eq!(positions, vec![1, 2, 3, 4]);
        assert_eq!(
            log.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
            events
        );
        assert_eq!(store.log_head().await.unwrap(), 4);
        assert_eq!(store.read_log(2, 10).await.unwrap().len(), 2);
        assert!(store.fetch_unpublished(10).await.unwrap().is_empty());
    }

    pub async fn offsets_never_move_backwards(db: Db) {
        let store = outbox::store(&db);
        let now = chrono::Utc::now();
        assert_eq!(store.consumer_offset("c").await.unwrap(), 0);
        store.commit_offset("c", 10, now).await.unwrap();
        store.commit_offset("c", 4, now).await.unwrap();
        assert_eq!(store.consumer_offset("c").await.unwrap(), 10);
        assert_eq!(store.consumer_offset("other").await.unwrap(), 0);
    }

    pub async fn processed_marks_deduplicate_per_consumer(db: Db) {
        let store = outbox::store(&db);
        let e = event(1);
        let now = chrono::Utc::now();
        assert!(!store.is_processed("a", e.id).await.unwrap());
        assert!(store.try_mark_processed("a", e.id, now).await.unwrap());
        assert!(!store.try_mark_processed("a", e.id, now).await.unwrap());
        assert!(store.is_processed("a", e.id).await.unwrap());
        assert!(store.try_mark_processed("b", e.id, now).await.unwrap());
    }

    pub async fn relay_and_consumer_deliver_in_order(db: Db) {
        domain_table(&db).await;
        let store = outbox::store(&db);
        let bus = Arc::new(OutboxLogBus::new(store.clone()).with_options(fast_consumer()));
        let events: Vec<_> = (0..50).map(event).collect();
        for chunk in events.chunks(10) {
            domain_write(&db, chunk, true).await;
        }
        let relay = Relay::new(store.clone(), bus.clone());
        while relay.run_once().await.unwrap() > 0 {}
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handler = handler_fn(move |e: EventEnvelope| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(e.id);
                Ok(())
            }
        });
        drain(&bus, &store, "ordered", handler).await;
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        assert_eq!(*seen.lock().unwrap(), ids);
    }

    pub async fn poison_event_is_dead_lettered_and_later_events_flow(db: Db) {
        let store = outbox::store(&db);
        let bus = Arc::new(OutboxLogBus::new(store.clone()).with_options(fast_consumer()));
        let events: Vec<_> = (0..5).map(event).collect();
        store.append(&events).await.unwrap();
        Relay::new(store.clone(), bus.clone())
            .run_once()
            .await
            .unwrap();
        let poison = events[1].id;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handler = handler_fn(move |e: EventEnvelope| {
            let sink = sink.clone();
            async move {
                if e.id == poison {
                    panic!("handler bug on this event");
                }
                sink.lock().unwrap().push(e.id);
                Ok(())
            }
        });
        drain(&bus, &store, "poisoned", handler).await;
        assert_eq!(seen.lock().unwrap().len(), 4);
        let dead = store.dead_letters("poisoned").await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].event_id, poison);
        assert_eq!(dead[0].attempts, 3);
        assert!(dead[0].last_error.contains("panicked"));
    }

    /// The outbox acceptance test: writers keep committing while the relay and the
    /// consumer are killed (task dropped) at random points, again and again. After a final
    /// restart every committed event has been applied exactly once.
    pub async fn killed_relay_and_consumer_lose_nothing_and_apply_once(db: Db) {
        domain_table(&db).await;
        use rand::Rng;
        let store = outbox::store(&db);
        let bus = Arc::new(OutboxLogBus::new(store.clone()).with_options(fast_consumer()));
        let consumer = CountingConsumer::setup(&db).await;
        let relay_options = RelayOptions {
            batch_size: 37,
            poll_interval: Duration::from_millis(2),
            error_backoff: Duration::from_millis(5),
        };
        const WRITERS: usize = 4;
        const TX_PER_WRITER: usize = 25;
        const EVENTS_PER_TX: usize = 10;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = db.clone();
                tokio::spawn(async move {
                    for t in 0..TX_PER_WRITER {
                        let base = (w * TX_PER_WRITER + t) * EVENTS_PER_TX;
                        let events: Vec<_> = (base..base + EVENTS_PER_TX).map(event).collect();
                        domain_write(&db, &events, true).await;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for _round in 0..12 {
            let relay = Relay::new(store.clone(), bus.clone()).with_options(relay_options.clone());
            let relay_task = tokio::spawn(async move { relay.run(CancellationToken::new()).await });
            let (bus2, handler) = (bus.clone(), consumer.clone() as Arc<dyn EventHandler>);
            let consumer_task = tokio::spawn(async move {
                bus2.consume("counter", handler, CancellationToken::new())
                    .await
            });
            let ms = rand::rng().random_range(1..15);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            // Kill both mid-flight: dropping the tasks abandons whatever they were doing.
            relay_task.abort();
            consumer_task.abort();
            let _ = relay_task.await;
            let _ = consumer_task.await;
        }
        for w in writers {
            w.await.unwrap();
        }
        // Simulate the worst relay crash explicitly: published, never marked.
        let pending = store.fetch_unpublished(5).await.unwrap();
        if !pending.is_empty() {
            bus.publish(&pending).await.unwrap();
        }
        let relay = Relay::new(store.clone(), bus.clone()).with_options(relay_options);
        while relay.run_once().await.unwrap() > 0 {}
        drain(&bus, &store, "counter", consumer.clone()).await;

        let total = WRITERS * TX_PER_WRITER * EVENTS_PER_TX;
        assert_eq!(
            store.log_head().await.unwrap(),
            total as i64,
            "every committed event is in the log once"
        );
        let effects = consumer.effects().await;
        assert_eq!(effects.len(), total, "every event was applied");
        assert!(
            effects.iter().all(|(_, n)| *n == 1),
            "no event was applied twice"
        );
    }

    /// Several relays at once (several replicas): positions still come out gap-free, so
    /// a consumer reading by position never skips an event.
    pub async fn concurrent_relays_keep_the_log_gap_free(db: Db) {
        domain_table(&db).await;
        let store = outbox::store(&db);
        let bus = Arc::new(OutboxLogBus::new(store.clone()).with_options(fast_consumer()));
        let events: Vec<_> = (0..300).map(event).collect();
        for chunk in events.chunks(20) {
            domain_write(&db, chunk, true).await;
        }
        let relays: Vec<_> = (0..3)
            .map(|_| {
                let relay = Relay::new(store.clone(), bus.clone()).with_options(RelayOptions {
                    batch_size: 16,
                    ..RelayOptions::default()
                });
                tokio::spawn(async move { while relay.run_once().await.unwrap() > 0 {} })
            })
            .collect();
        for r in relays {
            r.await.unwrap();
        }
        let log = store.read_log(0, 1000).await.unwrap();
        assert_eq!(log.len(), 300);
        assert!(
            log.iter()
                .enumerate()
                .all(|(i, e)| e.position == i as i64 + 1)
        );
        let mut ids: Vec<_> = log.iter().map(|e| e.event.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 300);
    }

    pub async fn pruning_keeps_what_a_consumer_still_needs(db: Db) {
        let store = outbox::store(&db);
        let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
        let events: Vec<_> = (0..10).map(event).collect();
        store.append(&events).await.unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        store.append_to_log(&ids, two_hours_ago).await.unwrap();
        for id in &ids {
            store
                .try_mark_processed("fast", *id, two_hours_ago)
                .await
                .unwrap();
        }
        // Retention 1 h: everything above is past the safety window.
        let pruner = Pruner::new(store.clone(), Duration::from_secs(3600), true);

        // No consumer has committed yet: nothing may go from the log. Processed-marks
        // only need to outlive the redelivery window.
        let pruned = pruner.prune_once().await.unwrap();
        assert_eq!(
            pruned,
            Pruned {
                events: 0,
                processed: 10
            }
        );
        assert_eq!(store.read_log(0, 100).await.unwrap().len(), 10);

        // The slowest consumer decides: positions up to 4 go, 5.. stay for it.
        store
            .commit_offset("fast", 10, two_hours_ago)
            .await
            .unwrap();
        store.commit_offset("slow", 4, two_hours_ago).await.unwrap();
        let pruned = pruner.prune_once().await.unwrap();
        assert_eq!(
            pruned,
            Pruned {
                events: 4,
                processed: 0
            }
        );
        let left: Vec<i64> = store
            .read_log(0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(left, (5..=10).collect::<Vec<_>>());
        assert!(!store.is_processed("fast", ids[0]).await.unwrap());

        // Positions keep counting after pruning; what is younger than the window stays
        // even when every consumer is past it.
        let fresh = event(11);
        store.append(std::slice::from_ref(&fresh)).await.unwrap();
        store
            .append_to_log(&[fresh.id], chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(store.log_head().await.unwrap(), 11);
        store
            .commit_offset("slow", 11, chrono::Utc::now())
            .await
            .unwrap();
        store
            .commit_offset("fast", 11, chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(pruner.prune_once().await.unwrap().events, 6);
        let left = store.read_log(0, 100).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].position, left[0].event.id), (11, fresh.id));
    }

    pub async fn pruning_behind_an_external_bus_keeps_only_the_unpublished(db: Db) {
        let store = outbox::store(&db);
        let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
        let events: Vec<_> = (0..6).map(event).collect();
        store.append(&events).await.unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        store
            .mark_published(&ids[..4], two_hours_ago)
            .await
            .unwrap();
        let pruner = Pruner::new(store.clone(), Duration::from_secs(3600), false);
        assert_eq!(pruner.prune_once().await.unwrap().events, 4);
        // The relay still finds what it has not handed to the broker.
        assert_eq!(store.fetch_unpublished(10).await.unwrap(), events[4..]);
    }
}

nova_testkit::db_conformance_suite!(suite:
    committed_events_are_fetched_in_order,
    rolled_back_transactions_leave_no_event,
    published_events_are_not_fetched_again,
    log_positions_are_gap_free_and_idempotent,
    offsets_never_move_backwards,
    processed_marks_deduplicate_per_consumer,
    relay_and_consumer_deliver_in_order,
    poison_event_is_dead_lettered_and_later_events_flow,
    killed_relay_and_consumer_lose_nothing_and_apply_once,
    concurrent_relays_keep_the_log_gap_free,
    pruning_keeps_what_a_consumer_still_needs,
    pruning_behind_an_external_bus_keeps_only_the_unpublished,
);
