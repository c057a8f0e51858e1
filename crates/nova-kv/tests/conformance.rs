//! The conformance suite, run against the in-process backend and against Redis
//! (`NOVA_TEST_REDIS_URL`), plus the Redis-down fallback.
// clippy's test exemption skips helpers outside `#[test]` fns; here a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::panic::{AssertUnwindSafe, resume_unwind};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use nova_kv::conformance::Case;
use nova_kv::{FallbackRateLimiter, InProcessRateLimiter, Kv, Quota, RateLimiter, RedisStore};

/// A Redis store under a fresh prefix from nova-testkit (which also removes the keys);
/// `None` when `NOVA_TEST_REDIS_URL` is unset outside CI.
async fn redis_store() -> Option<(nova_testkit::TestRedis, RedisStore)> {
    let backend = nova_testkit::redis().await?;
    let store = RedisStore::connect(backend.url(), backend.prefix())
        .await
        .unwrap();
    Some((backend, store))
}

mod in_process {
    use super::*;

    async fn run(case: Case) {
        case(Kv::in_process()).await
    }

    nova_kv::kv_conformance_suite!(run);
}

mod redis {
    use super::*;

    /// Runs `case` on a fresh prefix with the plain Redis limiter (no fallback, so a broken
    /// script fails the test), then deletes the prefix's keys, even if the case panicked.
    async fn run(case: Case) {
        let Some((_backend, store)) = redis_store().await else {
            return;
        };
        let kv = Kv {
            rate_limiter: Arc::new(store.clone()),
            ..Kv::from_redis_store(store.clone())
        };
        let outcome = AssertUnwindSafe(case(kv)).catch_unwind().await;
        store.purge().await.unwrap();
        if let Err(panic) = outcome {
            resume_unwind(panic);
        }
    }

    nova_kv::kv_conformance_suite!(run);

    #[tokio::test]
    async fn keys_live_under_the_prefix_and_purge_removes_them() {
        let Some((_backend, store)) = redis_store().await else {
            return;
        };
        let kv = Kv::from_redis_store(store.clone());
        kv.cache
            .set("c", b"x".to_vec(), Duration::from_secs(60))
            .await
            .unwrap();
        kv.sorted_sets.zadd("z", &[("m", 1.0)]).await.unwrap();
        kv.rate_limiter
            .check("r", &Quota::per_minute(1))
            .await
            .unwrap();
        // Another prefix sees nothing.
        let (_other_backend, other_store) = redis_store().await.unwrap();
        let other = Kv::from_redis_store(other_store);
        assert_eq!(other.cache.get("c").await.unwrap(), None);
        assert_eq!(other.sorted_sets.zcard("z").await.unwrap(), 0);
        assert_eq!(store.purge().await.unwrap(), 3);
        assert_eq!(kv.cache.get("c").await.unwrap(), None);
    }
}

/// Redis unreachable (nothing listens on port 1): limits still apply, per process.
#[tokio::test]
async fn fallback_limiter_enforces_limits_when_redis_is_down() {
    let down = Arc::new(RedisStore::lazy("redis://127.0.0.1:1", "nova-kv-test:").unwrap());
    let err = down.check("k", &Quota::per_minute(3)).await.unwrap_err();
    assert_eq!(err.kind(), &nova_core::ErrorKind::Unavailable);

    let limiter = FallbackRateLimiter::new(down, Arc::new(InProcessRateLimiter::default()));
    let quota = Quota::per_minute(3);
    for i in 0..3 {
        assert!(
            limiter.check("k", &quota).await.unwrap().allowed,
            "request {i}"
        );
    }
    let denied = limiter.check("k", &quota).await.unwrap();
    assert!(
        !denied.allowed,
        "a fourth request must be denied, not let through"
    );
    assert!(denied.retry_after > Duration::ZERO);
    assert!(limiter.is_degraded());
    // Other keys keep their own budget.
    assert!(limiter.check("other", &quota).await.unwrap().allowed);
}
