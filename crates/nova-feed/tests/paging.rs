//! Cursor pagination stays exact while posts are created concurrently (proptest), and a
//! flushed Redis rebuilds timelines from SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use nova_core::PostId;
use nova_feed::store::{MemoryTimelineStore, RedisTimelineStore, TimelineStore};
use nova_feed::{FeedApi, FeedConfig, FeedMode};
use nova_social::SocialApi;
use proptest::prelude::*;

use common::world;

async fn paging_case(store: Arc<dyn TimelineStore>, initial: usize, page: u32, arrivals: usize) {
    let backend = nova_testkit::sqlite().await;
    let w = world(backend.db().clone(), store, FeedConfig::default());
    let alice = w.user("alice").await;
    let authors = [w.user("a").await, w.user("b").await, w.user("c").await];
    for a in &authors {
        w.social.follow(&alice, a.user_id).await.unwrap();
    }
    w.feed
        .home(&alice, FeedMode::Chronological, 1, None)
        .await
        .unwrap();
    let mut posts = Vec::new();
    for i in 0..initial {
        posts.push(w.post(&authors[i % 3], "p").await);
    }
    w.deliver().await;
    posts.reverse();

    let mut seen: Vec<PostId> = Vec::new();
    let mut after: Option<String> = None;
    for round in 0..=initial {
        // Read a page while new posts are created and fanned out.
        let writer = async {
            for j in 0..arrivals {
                w.post(&authors[(round + j) % 3], "new").await;
            }
            w.deliver().await;
        };
        let reader = w
            .feed
            .home(&alice, FeedMode::Chronological, page, after.as_deref());
        let (got, ()) = tokio::join!(reader, writer);
        let got = got.unwrap();
        seen.extend(got.items.iter().map(|i| i.post.id));
        after = got.next_cursor;
        if after.is_none() {
            break;
        }
    }
    // The first page may include posts that arrived while it was read; from then on,
    // exactly the older posts, once each, newest first.
    let start = seen
        .iter()
        .position(|p| posts.contains(p))
        .unwrap_or(seen.len());
    assert!(seen[..start].iter().all(|p| !posts.contains(p)));
    assert_eq!(&seen[start..], &posts[..], "no gaps, no duplicates");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn pages_are_stable_while_posts_arrive(initial in 1usize..25, page in 1u32..7, arrivals in 0usize..3) {
        tokio::runtime::Runtime::new().unwrap().block_on(
            paging_case(Arc::new(MemoryTimelineStore::default()), initial, page, arrivals),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_stable_on_redis() {
    let Some(redis) = nova_testkit::redis().await else {
        return;
    };
    let store = RedisTimelineStore::connect(redis.url(), redis.prefix())
        .await
        .unwrap();
    paging_case(Arc::new(store), 17, 4, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_redis_rebuilds_from_sql() {
    let Some(redis) = nova_testkit::redis().await else {
        return;
    };
    let store = RedisTimelineStore::connect(redis.url(), redis.prefix())
        .await
        .unwrap();
    let backend = nova_testkit::sqlite().await;
    let w = world(backend.db().clone(), Arc::new(store), FeedConfig::default());
    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    w.social.follow(&alice, bob.user_id).await.unwrap();
    w.feed
        .home(&alice, FeedMode::Chronological, 10, None)
        .await
        .unwrap();
    let p1 = w.post(&bob, "one").await;
    let p2 = w.post(&bob, "two").await;
    w.deliver().await;
    let read = |w: &common::World| {
        let (feed, alice) = (w.feed.clone(), alice.clone());
        async move {
            feed.home(&alice, FeedMode::Chronological, 10, None)
                .await
                .unwrap()
                .items
                .iter()
                .map(|i| i.post.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(read(&w).await, [p2, p1]);

    // Flush this test's keys (and only them).
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", redis.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    redis::cmd("DEL")
        .arg(&keys)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();

    assert_eq!(read(&w).await, [p2, p1], "rebuilt from SQL");
}
