//! Search hot paths on the embedded Tantivy engine: indexing posts and answering term,
//! phrase, fuzzy and filtered queries over a synthetic corpus, with PostgreSQL full-text
//! search (tsvector + GIN, `websearch_to_tsquery`, `ts_rank`) on the same corpus as the
//! peer when `NOVA_BENCH_POSTGRES_URL` is set.
//!
//! Corpus (reproducible, seed 19): `SEARCH_BENCH_POSTS` posts (default 100,000) of 8–24
//! words from a 20,000-word Zipf vocabulary (s = 1), 0–2 hashtags from 500 Zipf tags,
//! three languages (en, es, ja; ja posts carry CJK words), creation times spread over a
//! year, likes Zipf-like.
//!
//! Targets (issue #19, at 1 M posts): query p50 ≤ 1 ms, p99 ≤ 10 ms; indexing ≥ 20,000
//! posts/s on one core; ≥ 10× lower p50 than PostgreSQL FTS per query type.
//!
//! Figures (100k posts, 2-core box shared with another build): indexing 18.3 k posts/s;
//! p50 term 1.9 ms, two terms 1.7 ms, phrase 2.0 ms, fuzzy 0.41 ms, filtered 0.96 ms,
//! CJK 0.71 ms; PostgreSQL / Tantivy p50 ratios 4.4×, 0.4×, 11.6×, 5.9×, 6.8×, 19.0×
//! (README "Benchmarks").

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches: a failed unwrap is a failed run
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nova_core::{PostId, Timestamp, UserId};
use nova_search::engine::{PostQuery, ViewerFilter};
use nova_search::{Change, PostDoc, PostVisibility, SearchEngine, TantivyEngine};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 20_000;
const TAGS: usize = 500;
const CJK: [&str; 8] = [
    "東京",
    "北京",
    "夜景",
    "学习",
    "编程",
    "語言",
    "タワー",
    "音楽",
];

/// Samples ranks 0..n with probability ∝ 1/(rank+1).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let last = *self.cumulative.last().unwrap();
        let x = rng.random::<f64>() * last;
        self.cumulative.partition_point(|c| *c < x)
    }
}

/// Word `i` of the vocabulary: pronounceable, distinct, 4–10 letters.
fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ba", "de", "fo", "gu", "ha", "ji", "po",
        "te",
    ];
    let mut w = String::new();
    let mut n = i + 16;
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

fn corpus(n: usize) -> Vec<PostDoc> {
    let mut rng = StdRng::seed_from_u64(19);
    let words = Zipf::new(VOCABULARY);
    let tags = Zipf::new(TAGS);
    let authors: Vec<UserId> = (0..1_000).map(|_| UserId::new()).collect();
    let start = Utc.timestamp_opt(1_750_000_000, 0).unwrap();
    (0..n)
        .map(|i| {
            let lang = ["en", "es", "ja"][i % 3];
            let len = rng.random_range(8..=24);
            let mut text: Vec<String> = (0..len).map(|_| word(words.sample(&mut rng))).collect();
            if lang == "ja" {
                text.push(CJK[rng.random_range(0..CJK.len())].to_owned());
            }
            let hashtags: Vec<String> = (0..rng.random_range(0..=2))
                .map(|_| format!("tag{}", tags.sample(&mut rng)))
                .collect();
            for t in &hashtags {
                text.push(format!("#{t}"));
            }
            PostDoc {
                id: PostId::new(),
                author_id: authors[rng.random_range(0..authors.len())],
                text: text.join(" "),
                hashtags,
                mentions: vec![],
                mention_ids: vec![],
                language: Some(lang.to_owned()),
                visibility: PostVisibility::Public,
                author_private: false,
                has_media: false,
                created_at: start + chrono::Duration::seconds(rng.random_range(0..31_536_000)),
                like_count: (1000.0 / (1.0 + rng.random::<f64>() * 999.0)) as i64,
                repost_count: 0,
            }
        })
        .collect()
}

/// The query mix: (kind, Nova query, PostgreSQL websearch query, extra SQL filter).
fn queries() -> Vec<(&'static str, String, String, &'static str)> {
    let (mid, mid2) = (word(40), word(41));
    let phrase = format!("{} {}", word(3), word(5));
    let typo = {
        let w = word(120);
        let mut c: Vec<char> = w.chars().collect();
        c.swap(1, 2);
        c.into_iter().collect::<String>()
    };
    vec![
        ("term", mid.clone(), mid.clone(), ""),
        (
            "two_terms",
            format!("{mid} {mid2}"),
            format!("{mid} {mid2}"),
            "",
        ),
        (
            "phrase",
            format!("\"{phrase}\""),
            format!("\"{phrase}\""),
            "",
        ),
        // PostgreSQL has no typo tolerance: its peer query is the intended word.
        ("fuzzy", typo, word(120), ""),
        (
            "filtered",
            format!("{mid} #tag3 lang:es"),
            mid.clone(),
            " AND 'tag3' = ANY(hashtags) AND lang = 'es'",
        ),
        ("cjk", "東京".to_owned(), "東京".to_owned(), ""),
    ]
}

fn post_query(text: &str, now: Timestamp) -> PostQuery {
    PostQuery {
        parsed: nova_search::query::parse(text).unwrap(),
        authors: vec![],
        viewer: ViewerFilter::Anonymous,
        now,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50 / p99 of `runs` calls of `f`, printed, for the README table.
fn latencies(label: &str, runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!("{label}: p50 {p50:?}, p99 {p99:?} over {runs} runs");
    (p50, p99)
}

fn search(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let n: usize = std::env::var("SEARCH_BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let posts = corpus(n);

    // Indexing: batches of 10,000 posts into a fresh one-thread index (one commit each).
    let mut group = c.benchmark_group("search_index");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let batch: Vec<Change> = posts[..10_000.min(n)]
        .iter()
        .cloned()
        .map(Change::UpsertPost)
        .collect();
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("posts_one_thread", |b| {
        b.iter_batched(
            || (TantivyEngine::in_memory().unwrap(), batch.clone()),
            |(engine, batch)| rt.block_on(engine.apply(batch)).unwrap(),
            BatchSize::LargeInput,
        );
    });
    group.finish();

    // The whole corpus once, timed, then the query mix on it.
    let engine = TantivyEngine::in_memory().unwrap();
    let all: Vec<Change> = posts.iter().cloned().map(Change::UpsertPost).collect();
    let t = Instant::now();
    for chunk in all.chunks(50_000) {
        rt.block_on(engine.apply(chunk.to_vec())).unwrap();
    }
    let took = t.elapsed();
    println!(
        "indexed {n} posts in {took:?}: {:.0} posts/s (one writer thread)",
        n as f64 / took.as_secs_f64()
    );
    let now = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
    let mix = queries();
    for (kind, q, _, _) in &mix {
        let hits = rt
            .block_on(engine.posts(post_query(q, now), 0, 20))
            .unwrap();
        assert!(!hits.is_empty(), "{kind} query {q:?} finds nothing");
    }
    let mut group = c.benchmark_group("search_query");
    group.throughput(Throughput::Elements(1));
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    for (kind, q, _, _) in &mix {
        group.bench_function(*kind, |b| {
            b.iter(|| {
                black_box(
                    rt.block_on(engine.posts(post_query(q, now), 0, 20))
                        .unwrap(),
                );
            });
        });
    }
    group.finish();
    let mut tantivy_p50 = Vec::new();
    for (kind, q, _, _) in &mix {
        let (p50, _) = latencies(&format!("tantivy {kind}"), 300, || {
            black_box(
                rt.block_on(engine.posts(post_query(q, now), 0, 20))
                    .unwrap(),
            );
        });
        tantivy_p50.push(p50);
    }

    if let Ok(url) = std::env::var("NOVA_BENCH_POSTGRES_URL") {
        postgres_peer(&rt, &url, &posts, &mix, &tantivy_p50);
    }
}

/// The same corpus and queries on PostgreSQL full-text search.
fn postgres_peer(
    rt: &tokio::runtime::Runtime,
    url: &str,
    posts: &[PostDoc],
    mix: &[(&'static str, String, String, &'static str)],
    tantivy_p50: &[Duration],
) {
    use sqlx::postgres::PgPoolOptions;
    let pool = rt
        .block_on(PgPoolOptions::new().max_connections(2).connect(url))
        .unwrap();
    rt.block_on(async {
        sqlx::query("DROP TABLE IF EXISTS search_bench_posts")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE search_bench_posts (id UUID PRIMARY KEY, text TEXT NOT NULL, \
             hashtags TEXT[] NOT NULL, lang TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, \
             likes BIGINT NOT NULL, tsv TSVECTOR GENERATED ALWAYS AS \
             (to_tsvector('simple', text)) STORED)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let t = Instant::now();
        for chunk in posts.chunks(5_000) {
            let ids: Vec<uuid::Uuid> = chunk.iter().map(|p| p.id.as_uuid()).collect();
            let texts: Vec<&str> = chunk.iter().map(|p| p.text.as_str()).collect();
            let tags: Vec<String> = chunk
                .iter()
                .map(|p| format!("{{{}}}", p.hashtags.join(",")))
                .collect();
            let langs: Vec<&str> = chunk
                .iter()
                .map(|p| p.language.as_deref().unwrap_or(""))
                .collect();
            let created: Vec<Timestamp> = chunk.iter().map(|p| p.created_at).collect();
            let likes: Vec<i64> = chunk.iter().map(|p| p.like_count).collect();
            sqlx::query(
                "INSERT INTO search_bench_posts (id, text, hashtags, lang, created_at, likes) \
                 SELECT id, text, tags::text[], lang, created_at, likes FROM \
                 UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[]) \
                 AS t(id, text, tags, lang, created_at, likes)",
            )
            .bind(&ids)
            .bind(&texts)
            .bind(&tags)
            .bind(&langs)
            .bind(&created)
            .bind(&likes)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query("CREATE INDEX ON search_bench_posts USING GIN (tsv)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("ANALYZE search_bench_posts")
            .execute(&pool)
            .await
            .unwrap();
        let took = t.elapsed();
        println!(
            "postgres: loaded and indexed {} posts in {took:?}: {:.0} posts/s",
            posts.len(),
            posts.len() as f64 / took.as_secs_f64()
        );
    });
    for ((kind, _, pg_query, filter), tantivy) in mix.iter().zip(tantivy_p50) {
        let sql = format!(
            "SELECT id FROM search_bench_posts, websearch_to_tsquery('simple', $1) q \
             WHERE tsv @@ q{filter} \
             ORDER BY ts_rank(tsv, q) * (1 + ln(1 + likes)) DESC LIMIT 20"
        );
        let (p50, _) = latencies(&format!("postgres {kind}"), 100, || {
            let rows = rt
                .block_on(sqlx::query(&sql).bind(pg_query).fetch_all(&pool))
                .unwrap();
            black_box(rows);
        });
        println!(
            "ratio {kind}: postgres p50 / tantivy p50 = {:.1}x",
            p50.as_secs_f64() / tantivy.as_secs_f64()
        );
    }
}

criterion_group!(benches, search);
criterion_main!(benches);
