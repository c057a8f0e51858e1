//! The behaviour suite every [`Kv`] backend must pass (feature `conformance`).
//!
//! Each case is an `async fn(Kv)` that panics on a violation. A backend's test file
//! invokes [`kv_conformance_suite!`](crate::kv_conformance_suite) with a runner that builds
//! a fresh, isolated `Kv`, runs the case and cleans up; the macro generates one
//! `#[tokio::test]` per case, so a new case here runs against every backend:
//!
//! ```text
//! async fn run(case: nova_kv::conformance::Case) {
//!     case(nova_kv::Kv::in_process()).await
//! }
//! nova_kv::kv_conformance_suite!(run);
//! ```
//!
//! Real time is used (Redis expiry cannot be faked): the waits add up to about a second.
// Test-support code: a failed expectation is a panic, as in any test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::StreamExt;
use nova_core::ErrorKind;

use crate::{CacheExt, Kv, Quota, ScoreRange, ScoredMember};

/// One case, boxed so runners can take any of them.
pub type Case = fn(Kv) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Generates one `#[tokio::test]` per conformance case, each calling `$run(case).await`
/// where `$run: async fn(nova_kv::conformance::Case)`.
#[macro_export]
macro_rules! kv_conformance_suite {
    ($run:path) => {
        $crate::kv_conformance_suite!(@cases $run;
            cache_set_get_delete, cache_expiry, cache_get_many, cache_json, cache_rejects_zero_ttl,
            rate_limit_burst_then_deny, rate_limit_keys_are_independent, rate_limit_cost,
            pubsub_delivers_to_subscribers, pubsub_channels_are_separate,
            zset_orders_by_score_descending, zset_incr, zset_trim_to_top, zset_remove_and_card,
            zset_range_by_score, zset_add_many_across_keys, zset_delete, zset_rejects_nan,
        );
    };
    (@cases $run:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                $run(|kv| ::std::boxed::Box::pin($crate::conformance::$case(kv))).await
            }
        )*
    };
}

async fn next_message(stream: &mut crate::MessageStream) -> crate::Message {
    tokio::time::timeout(Duration::from_secs(2), stream.next())
        .await
        .expect("no message within 2 s")
        .expect("subscription ended")
}

fn members(list: &[ScoredMember]) -> Vec<&str> {
    list.iter().map(|m| m.member.as_str()).collect()
}

/// Set, get, overwrite, delete.
pub async fn cache_set_get_delete(kv: Kv) {
    let ttl = Duration::from_secs(60);
    assert_eq!(kv.cache.get("a").await.unwrap(), None);
    kv.cache.set("a", b"one".to_vec(), ttl).await.unwrap();
    assert_eq!(kv.cache.get("a").await.unwrap(), Some(b"one".to_vec()));
    kv.cache.set("a", b"two".to_vec(), ttl).await.unwrap();
    assert_eq!(kv.cache.get("a").await.unwrap(), Some(b"two".to_vec()));
    kv.cache.set("empty", Vec::new(), ttl).await.unwrap();
    assert_eq!(kv.cache.get("empty").await.unwrap(), Some(Vec::new()));
    assert!(kv.cache.delete("a").await.unwrap());
    assert!(!kv.cache.delete("a").await.unwrap());
    assert_eq!(kv.cache.get("a").await.unwrap(), None);
}

/// Entries vanish after their TTL; a rewrite restarts the TTL.
pub async fn cache_expiry(kv: Kv) {
    kv.cache
        .set("short", b"x".to_vec(), Duration::from_millis(150))
        .await
        .unwrap();
    kv.cache
        .set("long", b"y".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(kv.cache.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(kv.cache.get("short").await.unwrap(), None);
    assert_eq!(kv.cache.get("long").await.unwrap(), Some(b"y".to_vec()));
}

/// `get_many` answers in the order asked, with misses as `None`.
pub async fn cache_get_many(kv: Kv) {
    let ttl = Duration::from_secs(60);
    kv.cache.set("k1", b"1".to_vec(), ttl).await.unwrap();
    kv.cache.set("k3", b"3".to_vec(), ttl).await.unwrap();
    let got = kv.cache.get_many(&["k3", "k2", "k1"]).await.unwrap();
    assert_eq!(got, vec![Some(b"3".to_vec()), None, Some(b"1".to_vec())]);
    assert!(kv.cache.get_many(&[]).await.unwrap().is_empty());
}

/// Typed values round-trip; an undecodable value reads as a miss.
pub async fn cache_json(kv: Kv) {
    let ttl = Duration::from_secs(60);
    kv.cache.set_json("v", &(7u32, "seven"), ttl).await.unwrap();
    let v: Option<(u32, String)> = kv.cache.get_json("v").await.unwrap();
    assert_eq!(v, Some((7, "seven".to_owned())));
    kv.cache
        .set("bad", b"not json".to_vec(), ttl)
        .await
        .unwrap();
    assert_eq!(kv.cache.get_json::<u32>("bad").await.unwrap(), None);
}

/// A zero TTL is the caller's mistake.
pub async fn cache_rejects_zero_ttl(kv: Kv) {
    let err = kv
        .cache
        .set("z", b"x".to_vec(), Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("ttl"));
}

/// Exactly `limit` requests pass in a burst; the next is denied with a retry time.
pub async fn rate_limit_burst_then_deny(kv: Kv) {
    let quota = Quota::per_minute(5);
    for i in 0..5u32 {
        let d = kv.rate_limiter.check("user:1", &quota).await.unwrap();
        assert!(d.allowed, "request {i} denied");
        assert_eq!(d.remaining, 4 - i);
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let denied = kv.rate_limiter.check("user:1", &quota).await.unwrap();
    assert!(!denied.allowed);
    assert_eq!(denied.remaining, 0);
    assert!(denied.retry_after > Duration::ZERO);
    assert!(denied.retry_after <= Duration::from_secs(12), "{denied:?}");
    assert!(denied.reset_after > Duration::from_secs(50), "{denied:?}");
}

/// One key's usage does not affect another's.
pub async fn rate_limit_keys_are_independent(kv: Kv) {
    let quota = Quota::per_hour(2);
    for _ in 0..2 {
        assert!(kv.rate_limiter.check("a", &quota).await.unwrap().allowed);
    }
    assert!(!kv.rate_limiter.check("a", &quota).await.unwrap().allowed);
    let b = kv.rate_limiter.check("b", &quota).await.unwrap();
    assert!(b.allowed);
    assert_eq!(b.remaining, 1);
}

/// `check_n` takes several cells at once, all or none; cost 0 peeks; too big is invalid.
pub async fn rate_limit_cost(kv: Kv) {
    let quota = Quota::per_hour(10);
    let rl = &kv.rate_limiter;
    assert_eq!(rl.check_n("k", &quota, 0).await.unwrap().remaining, 10);
    assert_eq!(rl.check_n("k", &quota, 7).await.unwrap().remaining, 3);
    let denied = rl.check_n("k", &quota, 4).await.unwrap();
    assert!(!denied.allowed);
    assert_eq!(rl.check_n("k", &quota, 0).await.unwrap().remaining, 3);
    assert!(rl.check_n("k", &quota, 3).await.unwrap().allowed);
    let err = rl.check_n("k", &quota, 11).await.unwrap_err();
    assert_eq!(err.field(), Some("cost"));
}

/// Every subscriber receives what is published after it subscribed.
pub async fn pubsub_delivers_to_subscribers(kv: Kv) {
    let mut first = kv.pubsub.subscribe("room").await.unwrap();
    let mut second = kv.pubsub.subscribe("room").await.unwrap();
    kv.pubsub.publish("room", b"hello".to_vec()).await.unwrap();
    kv.pubsub.publish("room", b"again".to_vec()).await.unwrap();
    for stream in [&mut first, &mut second] {
        let msg = next_message(stream).await;
        assert_eq!(
            (msg.channel.as_str(), msg.payload),
            ("room", b"hello".to_vec())
        );
        assert_eq!(next_message(stream).await.payload, b"again".to_vec());
    }
    // Publishing to a channel nobody listens to is fine.
    kv.pubsub.publish("nobody", b"x".to_vec()).await.unwrap();
}

/// A subscriber only sees its own channel.
pub async fn pubsub_channels_are_separate(kv: Kv) {
    let mut a = kv.pubsub.subscribe("a").await.unwrap();
    kv.pubsub.publish("b", b"for b".to_vec()).await.unwrap();
    kv.pubsub.publish("a", b"for a".to_vec()).await.unwrap();
    assert_eq!(next_message(&mut a).await.payload, b"for a".to_vec());
}

/// `top` is highest first with scores; ties order by member, descending.
pub async fn zset_orders_by_score_descending(kv: Kv) {
    let z = &kv.sorted_sets;
    let added = z
        .zadd("t", &[("a", 1.0), ("b", 3.0), ("c", 2.0), ("d", 2.0)])
        .await
        .unwrap();
    assert_eq!(added, 4);
    assert_eq!(z.zadd("t", &[("a", 5.0), ("e", 0.5)]).await.unwrap(), 1);
    let top = z.top("t", 3).await.unwrap();
    assert_eq!(
        top,
        vec![
            ScoredMember::new("a", 5.0),
            ScoredMember::new("b", 3.0),
            ScoredMember::new("d", 2.0),
        ]
    );
    assert_eq!(
        members(&z.top("t", 10).await.unwrap()),
        ["a", "b", "d", "c", "e"]
    );
    assert!(z.top("t", 0).await.unwrap().is_empty());
    assert!(z.top("missing", 5).await.unwrap().is_empty());
    assert_eq!(z.score("t", "c").await.unwrap(), Some(2.0));
    assert_eq!(z.score("t", "zz").await.unwrap(), None);
}

/// `zincrby` creates at 0 and accumulates, reordering the set.
pub async fn zset_incr(kv: Kv) {
    let z = &kv.sorted_sets;
    assert_eq!(z.zincrby("trend", "x", 1.5).await.unwrap(), 1.5);
    assert_eq!(z.zincrby("trend", "y", 2.0).await.unwrap(), 2.0);
    assert_eq!(z.zincrby("trend", "x", 1.0).await.unwrap(), 2.5);
    assert_eq!(z.zincrby("trend", "y", -0.5).await.unwrap(), 1.5);
    assert_eq!(members(&z.top("trend", 2).await.unwrap()), ["x", "y"]);
}

/// `trim_to_top` keeps the highest `keep` and reports how many went.
pub async fn zset_trim_to_top(kv: Kv) {
    let z = &kv.sorted_sets;
    let posts: Vec<(String, f64)> = (0..10).map(|i| (format!("p{i}"), f64::from(i))).collect();
    let refs: Vec<(&str, f64)> = posts.iter().map(|(m, s)| (m.as_str(), *s)).collect();
    z.zadd("tl", &refs).await.unwrap();
    assert_eq!(z.trim_to_top("tl", 3).await.unwrap(), 7);
    assert_eq!(members(&z.top("tl", 10).await.unwrap()), ["p9", "p8", "p7"]);
    assert_eq!(z.trim_to_top("tl", 5).await.unwrap(), 0);
    assert_eq!(z.trim_to_top("tl", 0).await.unwrap(), 3);
    assert_eq!(z.zcard("tl").await.unwrap(), 0);
}

/// `zrem` removes only present members; `zcard` counts.
pub async fn zset_remove_and_card(kv: Kv) {
    let z = &kv.sorted_sets;
    z.zadd("s", &[("a", 1.0), ("b", 2.0), ("c", 3.0)])
        .await
        .unwrap();
    assert_eq!(z.zcard("s").await.unwrap(), 3);
    assert_eq!(z.zrem("s", &["a", "zz"]).await.unwrap(), 1);
    assert_eq!(z.zrem("s", &[]).await.unwrap(), 0);
    assert_eq!(z.zcard("s").await.unwrap(), 2);
    assert_eq!(z.zcard("missing").await.unwrap(), 0);
    assert_eq!(members(&z.top("s", 5).await.unwrap()), ["c", "b"]);
}

/// Score ranges honour inclusive, exclusive and open ends, highest first, with a limit.
pub async fn zset_range_by_score(kv: Kv) {
    let z = &kv.sorted_sets;
    z.zadd(
        "r",
        &[
            ("a", 1.0),
            ("b", 2.0),
            ("c", 3.0),
            ("d", 4.0),
            ("e", f64::INFINITY),
        ],
    )
    .await
    .unwrap();
    let range = |r: ScoreRange, limit: usize| {
        let z = z.clone();
        async move { members(&z.range_by_score("r", r, limit).await.unwrap()).join(",") }
    };
    assert_eq!(range(ScoreRange::all(), 10).await, "e,d,c,b,a");
    assert_eq!(range(ScoreRange::inclusive(2.0, 3.0), 10).await, "c,b");
    assert_eq!(range(ScoreRange::below(3.0), 10).await, "b,a");
    assert_eq!(range(ScoreRange::below(4.0), 1).await, "c");
    assert_eq!(range(ScoreRange::all(), 0).await, "");
    let open_min = ScoreRange {
        min: std::ops::Bound::Excluded(1.0),
        max: std::ops::Bound::Included(2.0),
    };
    assert_eq!(range(open_min, 10).await, "b");
    let got = z
        .range_by_score("r", ScoreRange::below(2.5), 1)
        .await
        .unwrap();
    assert_eq!(got, vec![ScoredMember::new("b", 2.0)]);
}

/// `zadd_many` writes to many keys in one call, later entries winning within a key.
pub async fn zset_add_many_across_keys(kv: Kv) {
    let z = &kv.sorted_sets;
    z.zadd_many(&[
        ("tl:1", "post9", 9.0),
        ("tl:2", "post9", 9.0),
        ("tl:1", "post3", 3.0),
        ("tl:3", "post1", 1.0),
        ("tl:1", "post3", 10.0),
    ])
    .await
    .unwrap();
    assert_eq!(
        members(&z.top("tl:1", 10).await.unwrap()),
        ["post3", "post9"]
    );
    assert_eq!(z.zcard("tl:2").await.unwrap(), 1);
    assert_eq!(z.score("tl:3", "post1").await.unwrap(), Some(1.0));
    z.zadd_many(&[]).await.unwrap();
}

/// `delete` drops the whole set.
pub async fn zset_delete(kv: Kv) {
    let z = &kv.sorted_sets;
    z.zadd("d", &[("a", 1.0)]).await.unwrap();
    assert!(z.delete("d").await.unwrap());
    assert!(!z.delete("d").await.unwrap());
    assert_eq!(z.zcard("d").await.unwrap(), 0);
}

/// NaN scores are invalid arguments and change nothing.
pub async fn zset_rejects_nan(kv: Kv) {
    let z = &kv.sorted_sets;
    let err = z
        .zadd("n", &[("a", 1.0), ("b", f64::NAN)])
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::InvalidArgument {
            field: "score".into()
        }
    );
    assert!(z.zincrby("n", "a", f64::NAN).await.is_err());
    assert!(z.zadd_many(&[("n", "a", f64::NAN)]).await.is_err());
    assert_eq!(z.zcard("n").await.unwrap(), 0);
}
