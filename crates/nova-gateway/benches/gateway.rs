//! The gateway's hot path in-process: one `homeFeed` page of 20 posts with authors,
//! counts and "viewer follows author", through the router (guard, rate limits,
//! DataLoaders, in-process domains on SQLite). Target (issue 9, measured end to end by
//! the load test against the `nova` binary): p99 ≤ 10 ms at 2,000 requests/s.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nova_feed::FeedApi;
use nova_gateway::{GatewayOptions, RateLimits};
use nova_kv::Quota;
use serde_json::json;

const PAGE: &str = "{ homeFeed(first: 20) { edges { cursor node { id text likeCount viewerFollowsAuthor author { username followerCount } } } pageInfo { hasNextPage endCursor } } }";

fn home_feed(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The bench is one client: lift the per-principal and per-IP budgets out of the way.
    let unlimited = Quota::per_second(1_000_000);
    let options = GatewayOptions {
        rates: RateLimits {
            per_principal: unlimited,
            per_ip: unlimited,
            ..RateLimits::default()
        },
        ..GatewayOptions::default()
    };
    let (world, token) = rt.block_on(async {
        let world = common::World::with_options(options).await;
        let (viewer, token) = world.user("viewer").await;
        for i in 0..20 {
            let (author, _) = world.user(&format!("author{i}")).await;
            world.social.follow(&viewer, author.user_id).await.unwrap();
            for j in 0..5 {
                world.post(&author, &format!("post {j} #bench{i}")).await;
            }
        }
        let warm = world.gql(Some(&token), PAGE, json!({})).await;
        assert!(warm["errors"].is_null(), "{warm}");
        (std::sync::Arc::new(world), token)
    });

    let mut group = c.benchmark_group("gateway");
    group.throughput(Throughput::Elements(1));
    // The gateway's fixed cost: body, auth, guard (parse, measure, rate limits), response.
    group.bench_function("typename", |b| {
        b.iter(|| rt.block_on(world.gql(Some(&token), "{ __typename }", json!({}))))
    });
    // The domain work under one page: the feed read alone, no GraphQL.
    let viewer = rt.block_on(async {
        let answer = world
            .gql(Some(&token), "{ viewer { id } }", json!({}))
            .await;
        let id: nova_core::UserId = answer["data"]["viewer"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        nova_core::Principal::user(id, nova_core::SessionId::new())
    });
    group.bench_function("feed_home_domain_only", |b| {
        b.iter(|| {
            rt.block_on(
                world
                    .feed
                    .home(&viewer, nova_feed::FeedMode::Chronological, 20, None),
            )
            .unwrap()
        })
    });
    group.bench_function("home_feed_page_20", |b| {
        b.iter(|| rt.block_on(world.gql(Some(&token), PAGE, json!({}))))
    });
    // 64 requests in flight at once: requests per second over the machine's cores.
    group.throughput(Throughput::Elements(64));
    group.bench_function("home_feed_page_20_x64_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..64)
                    .map(|_| {
                        let (world, token) = (world.clone(), token.clone());
                        tokio::spawn(async move { world.gql(Some(&token), PAGE, json!({})).await })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, home_feed);
criterion_main!(benches);
