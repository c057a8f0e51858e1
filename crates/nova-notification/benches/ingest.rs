//! Ingest of like events into grouped notifications on the embedded default (an SQLite
//! file), with the real relations check (social's `author_access` over graph and users)
//! and exactly-once bookkeeping; and the unread-count read.
//!
//! Targets (issue 20): ingest ≥ 20,000 events/s on SQLite; unread count ≤ 100 µs.
//!
//! - `batch_500`: 500 fresh events (10 authors, 10 new posts each, 50 fans per post) in
//!   one `ingest` call: one transaction, one relations question per author (how a log
//!   replay or a batched consumer reads);
//! - `one_by_one`: the same events through the event handler, one transaction and one
//!   relations question per event (how the embedded log delivers today);
//! - `unread_count`: one recipient's unread count.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nova_core::Principal;
use nova_events::EventEnvelope;
use nova_notification::{Folder, NotificationApi};
use nova_proto::nova::content::v1 as content;
use prost::Message;

const AUTHORS: usize = 10;
const POSTS_PER_AUTHOR: usize = 10;
const FANS: usize = 50;
const BATCH: usize = AUTHORS * POSTS_PER_AUTHOR * FANS;

/// Likes of fresh posts: every event makes a new actor in a group.
fn likes(authors: &[Principal], fans: &[Principal]) -> Vec<EventEnvelope> {
    let mut out = Vec::with_capacity(BATCH);
    for author in authors {
        for _ in 0..POSTS_PER_AUTHOR {
            let post = uuid::Uuid::now_v7().to_string();
            for fan in fans {
                let p = content::LikeChanged {
                    post_id: post.clone(),
                    post_author_id: author.user_id.to_string(),
                    user_id: fan.user_id.to_string(),
                    visibility: "public".into(),
                    ..Default::default()
                };
                out.push(EventEnvelope::new(
                    "like.created",
                    post.clone(),
                    chrono::Utc::now(),
                    p.encode_to_vec(),
                ));
            }
        }
    }
    out
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend = rt.block_on(nova_testkit::sqlite());
    let w = common::world(backend.db().clone());
    let (authors, fans) = rt.block_on(async {
        let mut authors = Vec::new();
        for i in 0..AUTHORS {
            authors.push(w.user(&format!("author{i}")).await);
        }
        let mut fans = Vec::new();
        for i in 0..FANS {
            fans.push(w.user(&format!("fan{i}")).await);
        }
        (authors, fans)
    });

    let mut group = c.benchmark_group("notification_ingest_sqlite");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch_500", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let events = likes(&authors, &fans);
                let start = Instant::now();
                let touched = rt.block_on(w.notifications.ingest(&events)).unwrap();
                spent += start.elapsed();
                assert_eq!(touched, BATCH);
            }
            spent
        })
    });
    group.bench_function("one_by_one", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let events = likes(&authors, &fans);
                let start = Instant::now();
                rt.block_on(async {
                    for e in &events {
                        w.handler.handle(e).await.unwrap();
                    }
                });
                spent += start.elapsed();
            }
            spent
        })
    });
    group.finish();

    let mut group = c.benchmark_group("notification_read_sqlite");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    let author = authors[0].clone();
    assert!(
        rt.block_on(w.notifications.unread_count(&author, Folder::Inbox))
            .unwrap()
            > 0
    );
    group.bench_function("unread_count", |b| {
        b.iter(|| {
            rt.block_on(w.notifications.unread_count(&author, Folder::Inbox))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
