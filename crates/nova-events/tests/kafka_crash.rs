//! Crash test on a real broker: 10,000 events through the PostgreSQL outbox and relays
//! into Kafka while relays and the consumer are killed at random points (aborted tasks,
//! and publishes that "die" after the broker acknowledged but before the outbox is
//! marked). Every committed event must arrive, and the idempotent handler's side effect
//! (a row keyed by event id) must happen exactly once.

#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use nova_core::Error;
use nova_events::{
    ConsumerOptions, EventBus, EventEnvelope, EventHandler, KafkaBus, KafkaOptions, Relay,
    RelayOptions, idempotency, outbox,
};
use rand::Rng;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const EVENTS: usize = 10_000;

/// Publishes through Kafka, then sometimes fails as if the relay died right after the
/// broker acknowledged: the batch stays unpublished in the outbox and goes out again.
struct DyingAfterPublish {
    inner: Arc<KafkaBus>,
    deaths: AtomicU64,
}

#[async_trait]
impl EventBus for DyingAfterPublish {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), Error> {
        self.inner.publish(events).await?;
        if rand::rng().random_bool(0.2) {
            self.deaths.fetch_add(1, Ordering::Relaxed);
            return Err(Error::internal("relay died between publish and mark"));
        }
        Ok(())
    }
    async fn consume(
        &self,
        consumer: &str,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        self.inner.consume(consumer, handler, shutdown).await
    }
    fn external(&self) -> bool {
        true
    }
}

/// The effect: one row per event id counting applications, written in the same
/// transaction as the idempotency record.
struct Effects {
    pool: PgPool,
    deliveries: AtomicU64,
}

#[async_trait]
impl EventHandler for Effects {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let mut tx = self.pool.begin().await.map_err(nova_db::map_err)?;
        let now = chrono::Utc::now();
        if idempotency::mark_processed_postgres(&mut tx, "effects", event.id, now).await? {
            sqlx::query(
                "INSERT INTO crash_effects (event_id, applied) VALUES ($1, 1)
                 ON CONFLICT (event_id) DO UPDATE SET applied = crash_effects.applied + 1",
            )
            .bind(event.id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(nova_db::map_err)?;
        }
        tx.commit().await.map_err(nova_db::map_err)
    }
}

fn spawn_relay(relay: Arc<Relay>) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let token = CancellationToken::new();
    let stop = token.clone();
    (token, tokio::spawn(async move { relay.run(stop).await }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_relays_and_consumer_lose_nothing_and_apply_once() {
    let Some(kafka) = nova_testkit::kafka().await else {
        return;
    };
    let Some(pg) = nova_testkit::postgres().await else {
        return;
    };
    let pool = pg.db().postgres().unwrap().clone();
    sqlx::query("CREATE TABLE crash_effects (event_id UUID PRIMARY KEY, applied BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();

    let mut options = KafkaOptions::new(kafka.brokers());
    options.topic_prefix = kafka.prefix().to_owned();
    options.partitions = 4;
    options.metadata_refresh = Duration::from_millis(500);
    options.consumer = ConsumerOptions {
        batch_size: 200,
        poll_interval: Duration::from_millis(100),
        max_attempts: 1000,
        retry_backoff: Duration::from_millis(10),
    };
    let kafka_bus = Arc::new(KafkaBus::new(options).unwrap());
    kafka_bus
        .ensure_topics([kafka_bus.topic_for("crash.happened")])
        .await
        .unwrap();
    let bus = Arc::new(DyingAfterPublish {
        inner: kafka_bus,
        deaths: AtomicU64::new(0),
    });
    let store = outbox::store(pg.db());
    let relay = || {
        Arc::new(
            Relay::new(store.clone(), bus.clone()).with_options(RelayOptions {
                batch_size: 250,
                poll_interval: Duration::from_millis(20),
                error_backoff: Duration::from_millis(20),
            }),
        )
    };
    let effects = Arc::new(Effects {
        pool: pool.clone(),
        deliveries: AtomicU64::new(0),
    });
    let consume = || {
        let (bus, handler, token) = (bus.clone(), effects.clone(), CancellationToken::new());
        let stop = token.clone();
        let task = tokio::spawn(async move { bus.consume("crash", handler, stop).await });
        (token, task)
    };

    // Two relays share the outbox (SKIP LOCKED) while domains commit in 100 transactions.
    let mut relays = vec![spawn_relay(relay()), spawn_relay(relay())];
    let mut consumer = consume();
    let mut committed = Vec::with_capacity(EVENTS);
    for chunk in 0..EVENTS / 100 {
        let events: Vec<EventEnvelope> = (0..100)
            .map(|i| {
                EventEnvelope::new(
                    "crash.happened",
                    format!("agg-{}", i % 17),
                    chrono::Utc::now(),
                    format!("{chunk}-{i}").into_bytes(),
                )
            })
            .collect();
        let mut tx = pool.begin().await.unwrap();
        outbox::append_postgres(&mut tx, &events).await.unwrap();
        tx.commit().await.unwrap();
        committed.extend(events.iter().map(|e| e.id.as_uuid()));
        if chunk % 20 == 10 {
            // Kill a relay mid-flight (whatever it holds is rolled back) and start another.
            let victim = rand::rng().random_range(0..relays.len());
            tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..50))).await;
            let (_, task) = relays.swap_remove(victim);
            task.abort();
            let _ = task.await;
            relays.push(spawn_relay(relay()));
        }
        if chunk % 33 == 20 {
            // Kill the consumer without a clean shutdown: uncommitted offsets are redelivered.
            let (_, task) = consumer;
            task.abort();
            let _ = task.await;
            consumer = consume();
        }
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crash_effects")
            .fetch_one(&pool)
            .await
            .unwrap();
        if applied as usize == EVENTS {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {applied} of {EVENTS} events applied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (token, task) in relays {
        token.cancel();
        task.await.unwrap();
    }
    consumer.0.cancel();
    consumer.1.await.unwrap().unwrap();

    let unpublished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unpublished, 0);
    let twice: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crash_effects WHERE applied <> 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(twice, 0, "every effect happens exactly once");
    let missing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM UNNEST($1::uuid[]) AS c(id)
         WHERE NOT EXISTS (SELECT 1 FROM crash_effects e WHERE e.event_id = c.id)",
    )
    .bind(&committed)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missing, 0, "every committed event arrived");
    assert!(
        bus.deaths.load(Ordering::Relaxed) > 0,
        "some batches were published twice"
    );
    assert!(
        effects.deliveries.load(Ordering::Relaxed) > EVENTS as u64,
        "duplicates reached the consumer and were absorbed"
    );
}
