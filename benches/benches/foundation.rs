//! Foundation hot paths: every paginated read decodes a cursor and encodes the next one;
//! every state change appends to the outbox and every event passes through the relay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nova_core::{PostId, cursor::CursorCodec};
use nova_events::{EventEnvelope, OutboxLogBus, Relay, outbox};
use std::hint::black_box;
use std::sync::Arc;

/// Target: ≥ 1M cursor round trips/s per core (a page of 20 items costs one).
fn cursors(c: &mut Criterion) {
    let codec = CursorCodec::new(b"bench key bench key bench key 32");
    let position = (chrono::Utc::now().timestamp_micros(), PostId::new());
    let encoded = codec.encode(&position).unwrap();
    let mut group = c.benchmark_group("cursor");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| {
        b.iter(|| codec.encode(black_box(&position)).unwrap())
    });
    group.bench_function("decode", |b| {
        b.iter(|| codec.decode::<(i64, PostId)>(black_box(&encoded)).unwrap())
    });
    group.finish();
}

/// Target: ≥ 20,000 events/s appended in transactions of 10 and relayed onto the
/// embedded log (SQLite file, WAL, synchronous=NORMAL) on this 2-core machine.
fn outbox_sqlite(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("nova-bench-{}", std::process::id()));
    let db = rt.block_on(async {
        let db = nova_db::Db::open_sqlite_file(&dir.join("bench.db"), &Default::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    });
    let store = outbox::store(&db);
    let bus = Arc::new(OutboxLogBus::new(store.clone()));
    let relay = Relay::new(store.clone(), bus);
    let writer = db.sqlite().unwrap().writer.clone();
    let mut group = c.benchmark_group("outbox_sqlite");
    group.throughput(Throughput::Elements(10));
    group.bench_function("append_tx_of_10", |b| {
        b.iter_batched(
            || {
                (0..10)
                    .map(|i| {
                        EventEnvelope::new("bench.event", "agg", chrono::Utc::now(), vec![i; 64])
                    })
                    .collect::<Vec<_>>()
            },
            |events| {
                rt.block_on(async {
                    let mut tx = writer.begin().await.unwrap();
                    outbox::append_sqlite(&mut tx, &events).await.unwrap();
                    tx.commit().await.unwrap();
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.throughput(Throughput::Elements(500));
    group.bench_function("relay_batch_of_500", |b| {
        b.iter_batched(
            || {
                rt.block_on(async {
                    let events: Vec<_> = (0..500)
                        .map(|_| {
                            EventEnvelope::new(
                                "bench.event",
                                "agg",
                                chrono::Utc::now(),
                                vec![0; 64],
                            )
                        })
                        .collect();
                    store.append(&events).await.unwrap();
                })
            },
            |()| rt.block_on(async { relay.run_once().await.unwrap() }),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, cursors, outbox_sqlite);
criterion_main!(benches);
