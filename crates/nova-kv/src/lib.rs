//! # nova-kv
//!
//! Nova's fast, shared, lossy state — everything Redis holds at scale — as four ports with a
//! Redis adapter and an in-process default:
//!
//! - [`Cache`]: bytes with a TTL per entry, plus JSON helpers ([`CacheExt`]);
//! - [`RateLimiter`]: GCRA quotas such as 25 per 5 minutes ([`Quota`] → [`Decision`]);
//! - [`PubSub`]: fire-and-forget channels with streaming subscribers;
//! - [`SortedSets`]: scored members for timelines, trending and leaderboards.
//!
//! [`edge`] holds the rate limits every HTTP door (GraphQL and REST) charges alike.
//!
//! [`Kv`] bundles one of each. [`Kv::in_process`] needs nothing (the `nova` shell, unit
//! tests); [`Kv::redis`] talks to Redis 7, with every key under a configurable prefix.
//! [`Kv::from_redis_url`] picks one from the optional `REDIS_URL`. With Redis, the rate
//! limiter is a [`FallbackRateLimiter`]: if Redis goes away, limits are enforced per process
//! rather than dropped.
//!
//! Every backend passes the same behaviour suite (`conformance`, behind the feature
//! of that name). Backend failures surface as [`nova_core::ErrorKind::Unavailable`] with
//! the Redis error attached as the (never client-visible) source.
//!
//! ```
//! use std::time::Duration;
//! use futures::StreamExt;
//! use nova_kv::{CacheExt, Kv, Quota};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> nova_core::Result<()> {
//! let kv = Kv::in_process();
//!
//! // Cache a typed value for a minute.
//! kv.cache.set_json("user:42:name", &"Ada", Duration::from_secs(60)).await?;
//! assert_eq!(kv.cache.get_json::<String>("user:42:name").await?.as_deref(), Some("Ada"));
//!
//! // At most 2 posts per minute: the third is refused, with a time to retry.
//! let quota = Quota::per_minute(2);
//! assert!(kv.rate_limiter.check("post:42", &quota).await?.allowed);
//! assert!(kv.rate_limiter.check("post:42", &quota).await?.allowed);
//! let third = kv.rate_limiter.check("post:42", &quota).await?;
//! assert!(!third.allowed && third.retry_after > Duration::ZERO);
//!
//! // A timeline: newest first, capped at 2 entries.
//! kv.sorted_sets.zadd("timeline:42", &[("p1", 1.0), ("p2", 2.0), ("p3", 3.0)]).await?;
//! kv.sorted_sets.trim_to_top("timeline:42", 2).await?;
//! let page = kv.sorted_sets.top("timeline:42", 10).await?;
//! assert_eq!(page.iter().map(|m| m.member.as_str()).collect::<Vec<_>>(), ["p3", "p2"]);
//!
//! // Pub/sub: subscribers receive what is published after they subscribed.
//! let mut typing = kv.pubsub.subscribe("chat:7:typing").await?;
//! kv.pubsub.publish("chat:7:typing", b"ada".to_vec()).await?;
//! assert_eq!(typing.next().await.map(|m| m.payload), Some(b"ada".to_vec()));
//! # Ok(())
//! # }
//! ```

pub mod cache;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod edge;
pub mod fallback;
pub mod pubsub;
pub mod rate_limit;
pub mod read_cache;
pub mod redis;
pub mod sorted_sets;

use std::sync::Arc;

use nova_core::{Result, SharedClock, SystemClock};

pub use crate::cache::{Cache, CacheExt, InProcessCache};
pub use crate::fallback::FallbackRateLimiter;
pub use crate::pubsub::{InProcessPubSub, Message, MessageStream, PubSub};
pub use crate::rate_limit::{Decision, InProcessRateLimiter, Quota, RateLimiter};
pub use crate::read_cache::{ReadCache, Ticket};
pub use crate::redis::RedisStore;
pub use crate::sorted_sets::{InProcessSortedSets, ScoreRange, ScoredMember, SortedSets};

/// One of each port, as the services hold them. Cheap to clone.
#[derive(Clone)]
pub struct Kv {
    /// The cache.
    pub cache: Arc<dyn Cache>,
    /// The rate limiter.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Publish/subscribe.
    pub pubsub: Arc<dyn PubSub>,
    /// Sorted sets.
    pub sorted_sets: Arc<dyn SortedSets>,
}

impl Kv {
    /// Everything in this process, the rate limiter on the system clock.
    pub fn in_process() -> Self {
        Self::in_process_with_clock(SystemClock::shared())
    }

    /// Everything in this process, the rate limiter timed by `clock` (a `ManualClock` in
    /// tests). Cache expiry follows real time regardless.
    pub fn in_process_with_clock(clock: SharedClock) -> Self {
        Self {
            cache: Arc::new(InProcessCache::default()),
            rate_limiter: Arc::new(InProcessRateLimiter::new(clock)),
            pubsub: Arc::new(InProcessPubSub::default()),
            sorted_sets: Arc::new(InProcessSortedSets::new()),
        }
    }

    /// Everything in Redis at `url`, every key starting with `key_prefix`; fails if the
    /// server does not answer. The rate limiter falls back to a per-process one while
    /// Redis is unreachable.
    pub async fn redis(url: &str, key_prefix: &str) -> Result<Self> {
        Ok(Self::from_redis_store(
            RedisStore::connect(url, key_prefix).await?,
        ))
    }

    /// Everything in an existing [`RedisStore`], with the per-process rate-limit fallback.
    pub fn from_redis_store(store: RedisStore) -> Self {
        let store = Arc::new(store);
        let fallback = Arc::new(InProcessRateLimiter::default());
        Self {
            cache: store.clone(),
            rate_limiter: Arc::new(FallbackRateLimiter::new(store.clone(), fallback)),
            pubsub: store.clone(),
            sorted_sets: store,
        }
    }

    /// Redis when `redis_url` (the `REDIS_URL` setting) is present, in-process otherwise.
    pub async fn from_redis_url(redis_url: Option<&str>, key_prefix: &str) -> Result<Self> {
        match redis_url {
            Some(url) if !url.trim().is_empty() => Self::redis(url, key_prefix).await,
            _ => Ok(Self::in_process()),
        }
    }
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv").finish_non_exhaustive()
    }
}
