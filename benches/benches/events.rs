//! Events on Kafka: outbox → relay → broker → consumer, in events per second.
//!
//! Needs a Kafka-protocol broker: `cargo xtask services up` starts tansu on
//! 127.0.0.1:19092, then
//! `NOVA_TEST_KAFKA_BROKERS=127.0.0.1:19092 cargo bench -p nova-benches --features kafka --bench events`.
//! Without `NOVA_TEST_KAFKA_BROKERS` the bench says so and measures nothing.
//!
//! Target (README "Events"): ≥ 5,000 events/s relay → Kafka → consumer on the 2-vCPU box.
//! Each iteration commits 10,000 events (100-byte payloads, 1,000 aggregates) to a SQLite
//! outbox, untimed; then times the relay publishing them (`relay_publish`, idempotent
//! producer, acks=all) or until a consumer group has handled every one
//! (`relay_to_consumer`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use nova_db::{Db, DbOptions};
use nova_events::{
    CancellationToken, EventBus, EventEnvelope, KafkaBus, KafkaOptions, OutboxStore, Relay,
    RelayOptions, handler_fn, outbox,
};

const EVENTS: usize = 10_000;

struct Setup {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn OutboxStore>,
    relay: Relay,
    handled: Arc<AtomicU64>,
    _dir: tempfile::TempDir,
    _stop: CancellationToken,
}

fn setup(brokers: &str) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, relay, handled, stop) = rt.block_on(async {
        let db = Db::open_sqlite_file(&dir.path().join("bench.db"), &DbOptions::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let store = outbox::store(&db);
        let mut options = KafkaOptions::new(brokers);
        options.topic_prefix = format!("bench{}", nova_core::EventId::new().as_uuid().simple());
        options.metadata_refresh = Duration::from_millis(500);
        let bus = Arc::new(KafkaBus::new(options).unwrap());
        bus.ensure_topics([bus.topic_for("bench.happened")])
            .await
            .unwrap();
        let relay = Relay::new(store.clone(), bus.clone()).with_options(RelayOptions {
            batch_size: 1_000,
            ..RelayOptions::default()
        });
        let handled = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let counter = handled.clone();
        let token = stop.clone();
        tokio::spawn(async move {
            let handler = handler_fn(move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            });
            bus.consume("bench", handler, token).await.unwrap();
        });
        (store, relay, handled, stop)
    });
    Setup {
        rt,
        store,
        relay,
        handled,
        _dir: dir,
        _stop: stop,
    }
}

fn batch() -> Vec<EventEnvelope> {
    (0..EVENTS)
        .map(|i| {
            EventEnvelope::new(
                "bench.happened",
                format!("agg-{}", i % 1_000),
                chrono::Utc::now(),
                vec![7; 100],
            )
        })
        .collect()
}

impl Setup {
    /// Waits until the consumer has handled `target` events (fails after 2 minutes).
    async fn wait_for(&self, target: u64, every: Duration) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.handled.load(Ordering::Relaxed) < target {
            let handled = self.handled.load(Ordering::Relaxed);
            assert!(
                Instant::now() < deadline,
                "consumer stuck at {handled} of {target}"
            );
            tokio::time::sleep(every).await;
        }
    }

    /// Commits a batch (untimed), then times the relay until the outbox is drained and,
    /// with `to_consumer`, until the consumer handled all of it.
    fn run(&self, iters: u64, to_consumer: bool) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let events = batch();
            self.rt.block_on(async {
                self.store.append(&events).await.unwrap();
                let target = self.handled.load(Ordering::Relaxed) + EVENTS as u64;
                let started = Instant::now();
                while self.relay.run_once().await.unwrap() > 0 {}
                if to_consumer {
                    self.wait_for(target, Duration::from_millis(1)).await;
                }
                total += started.elapsed();
                // Let the consumer catch up before the next (publish-only) round.
                self.wait_for(target, Duration::from_millis(5)).await;
            });
        }
        total
    }
}

fn kafka(c: &mut Criterion) {
    let Ok(brokers) = std::env::var("NOVA_TEST_KAFKA_BROKERS") else {
        eprintln!(
            "events bench: set NOVA_TEST_KAFKA_BROKERS (`cargo xtask services up` starts a broker on 127.0.0.1:19092)"
        );
        return;
    };
    let setup = setup(&brokers);
    let mut group = c.benchmark_group("events_kafka");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    // One iteration per sample: each moves 10,000 events.
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("relay_publish", |b| {
        b.iter_custom(|iters| setup.run(iters, false))
    });
    group.bench_function("relay_to_consumer", |b| {
        b.iter_custom(|iters| setup.run(iters, true))
    });
    group.finish();
}

criterion_group!(benches, kafka);
criterion_main!(benches);
