//! Feed hot paths: fan-out of one post to 10,000 followers' home timelines, in-process
//! and into Redis with pipelining, beside the peer approach of one `ZADD` round trip per
//! follower (what the largest open-source social server does) on the same Redis; and a
//! home page read (20 entries, before hydration) in-process.
//!
//! Redis: `NOVA_BENCH_REDIS_URL`, else `NOVA_TEST_REDIS_URL`, else redis://127.0.0.1:6379;
//! the Redis benches are skipped (with a line on stderr) when none answers. Every key is
//! under a fresh `nova-bench:…` prefix, deleted at the end.
//!
//! Targets (issue #8) and figures measured on the shared 2-vCPU box while other builds
//! ran (load average 3–5), release build, timelines of 200 entries (full: in-process and
//! Redis timelines are seeded with 200, so every push trims or grows toward its trim):
//! - fan-out to 10,000 followers in-process: target ≤ 0.5 ms; measured 0.41–0.49 ms
//!   (before: 1.16–1.33 ms in the same session, 0.86–0.92 ms on a quieter box):
//!   **met** (open-addressing shard tables, one 64-byte bucket per timeline holding the
//!   ring header and newest post, 32-byte ring slots: one bucket read, one slot write);
//! - fan-out to 10,000 followers into local Redis (the store's Lua push, 1,000 timelines
//!   per call, calls concurrent on one connection): target ≤ 20 ms; measured 39–122 ms
//!   across runs (the sorted-set store before it: 78–195 ms in the same windows, 1.6–2×
//!   slower): **not met**. Redis spends it in the script: two `redis.call` per timeline
//!   (`LINDEX 1` for the order, `LINSERT` after the cap header), about 1 µs of call
//!   overhead each plus the command, on a CPU shared with the builds;
//! - versus one `ZADD` round trip per follower (497 ms–1.0 s): 7.2–18× faster, target
//!   ≥ 10×: met in 3 of 4 runs (the sorted-set store: 4.8–7.1× with full timelines);
//! - home page read of 20 entries in-process: target ≤ 5 µs; measured 0.30–0.46 µs
//!   (0.38–0.55 µs below a cursor): met.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nova_core::{PostId, UserId};
use nova_feed::store::{
    Entry, MemoryTimelineStore, RedisTimelineStore, TimelineKey, TimelineStore,
};
use tokio::runtime::Runtime;

const FOLLOWERS: usize = 10_000;
/// Entries per timeline in the benches (trimming runs on every push once full).
const CAP: usize = 200;

fn followers() -> Vec<TimelineKey> {
    (0..FOLLOWERS)
        .map(|_| TimelineKey::Home(UserId::new()))
        .collect()
}

fn redis_url() -> String {
    std::env::var("NOVA_BENCH_REDIS_URL")
        .or_else(|_| std::env::var("NOVA_TEST_REDIS_URL"))
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn fan_out_in_process(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryTimelineStore::new(FOLLOWERS * 2);
    let keys = followers();
    let author = UserId::new();
    rt.block_on(async {
        for k in &keys {
            let seed: Vec<Entry> = (0..CAP)
                .map(|_| Entry::new(PostId::new(), author))
                .collect();
            store.rebuild(*k, &seed, CAP).await.unwrap();
        }
    });
    let mut g = c.benchmark_group("feed_fan_out");
    g.throughput(Throughput::Elements(FOLLOWERS as u64));
    g.bench_function("in_process_10k_followers", |b| {
        b.iter(|| {
            let entry = Entry::new(PostId::new(), author);
            rt.block_on(store.push(black_box(&keys), entry, CAP))
                .unwrap();
        })
    });
    g.finish();
}

fn home_read_in_process(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryTimelineStore::default();
    let home = TimelineKey::Home(UserId::new());
    let entries: Vec<Entry> = (0..800)
        .map(|_| Entry::new(PostId::new(), UserId::new()))
        .collect();
    rt.block_on(store.rebuild(home, &entries, 800)).unwrap();
    let cursor = entries[400].post;
    let mut g = c.benchmark_group("feed_home_read");
    g.throughput(Throughput::Elements(20));
    g.bench_function("in_process_first_page_20", |b| {
        b.iter(|| rt.block_on(store.page(black_box(home), None, 20)).unwrap())
    });
    g.bench_function("in_process_after_cursor_20", |b| {
        b.iter(|| {
            rt.block_on(store.page(black_box(home), Some(cursor), 20))
                .unwrap()
        })
    });
    g.finish();
}

/// The peer: one `ZADD` per follower, each awaited before the next.
async fn zadd_per_follower(
    conn: &mut redis::aio::MultiplexedConnection,
    keys: &[String],
    member: &str,
) {
    for k in keys {
        redis::cmd("ZADD")
            .arg(k)
            .arg(0)
            .arg(member)
            .query_async::<()>(conn)
            .await
            .unwrap();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fan_out_redis(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let url = redis_url();
    let prefix = format!("nova-bench:{}:", uuid_like());
    let Ok(store) = rt.block_on(RedisTimelineStore::connect(&url, &prefix)) else {
        eprintln!("feed_fan_out redis: no Redis at {url}, skipped");
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = rt
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    let keys = followers();
    let peer_keys: Vec<String> = (0..FOLLOWERS)
        .map(|i| format!("{prefix}peer:{i}"))
        .collect();
    let author = UserId::new();
    // Full timelines, as in-process: every push then trims (or grows toward the trim).
    rt.block_on(async {
        for k in &keys {
            let seed: Vec<Entry> = (0..CAP)
                .map(|_| Entry::new(PostId::new(), author))
                .collect();
            store.rebuild(*k, &seed, CAP).await.unwrap();
        }
    });

    let mut g = c.benchmark_group("feed_fan_out");
    g.throughput(Throughput::Elements(FOLLOWERS as u64));
    g.sample_size(20);
    g.bench_function("redis_pipelined_10k_followers", |b| {
        b.iter(|| {
            let entry = Entry::new(PostId::new(), author);
            rt.block_on(store.push(&keys, entry, CAP)).unwrap();
        })
    });
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("peer_redis_zadd_per_follower_10k", |b| {
        b.iter(|| {
            let member = PostId::new().to_string();
            rt.block_on(zadd_per_follower(&mut conn, &peer_keys, &member));
        })
    });
    g.finish();

    // The ratio, from a few timed runs of each outside criterion.
    let ours = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(store.push(&keys, Entry::new(PostId::new(), author), CAP))
                    .unwrap();
                t.elapsed()
            })
            .collect(),
    );
    let peer = median(
        (0..3)
            .map(|_| {
                let member = PostId::new().to_string();
                let t = Instant::now();
                rt.block_on(zadd_per_follower(&mut conn, &peer_keys, &member));
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "feed fan-out to {FOLLOWERS} followers on Redis: pipelined {ours:?}, one ZADD round trip per follower {peer:?}: {:.1}x faster (target >= 10x)",
        peer.as_secs_f64() / ours.as_secs_f64()
    );

    rt.block_on(async {
        let pattern = format!("{prefix}*");
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            if !found.is_empty() {
                redis::cmd("UNLINK")
                    .arg(&found)
                    .query_async::<()>(&mut conn)
                    .await
                    .unwrap();
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    });
}

fn uuid_like() -> String {
    PostId::new().as_uuid().simple().to_string()
}

criterion_group!(
    benches,
    fan_out_in_process,
    home_read_in_process,
    fan_out_redis
);
criterion_main!(benches);
