//! The cache port, typed helpers, and the in-process cache (moka).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as MokaCache;
use nova_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A byte cache with a time-to-live per entry.
///
/// Values are opaque bytes; [`CacheExt`] adds JSON-typed `get_json` / `set_json`.
/// A cache may drop any entry early (capacity, restarts), so callers treat a miss as
/// "recompute", never as "does not exist".
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value stored under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Stores `value` under `key` for `ttl` (which must be at least one millisecond),
    /// replacing any previous value and TTL.
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()>;

    /// Removes `key`; returns whether it was present.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// The values of several keys at once, in the order of `keys`.
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(key).await?);
        }
        Ok(values)
    }
}

/// Rejects TTLs the backends cannot honour (Redis `PX` needs at least 1 ms).
pub(crate) fn validate_ttl(ttl: Duration) -> Result<u64> {
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::invalid("ttl", "must be at least 1 ms"));
    }
    Ok(ms)
}

/// JSON-typed helpers for every [`Cache`] (including `dyn Cache`).
#[async_trait]
pub trait CacheExt: Cache {
    /// Reads and decodes a JSON value. A value that no longer decodes (its type changed
    /// between releases) is logged and treated as a miss, so it gets recomputed.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(bytes) = self.get(key).await? else {
            return Ok(None);
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(err) => {
                tracing::warn!(key, error = %err, "cached value does not decode; treating as a miss");
                Ok(None)
            }
        }
    }

    /// Encodes `value` as JSON and stores it for `ttl`.
    async fn set_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(Error::internal)?;
        self.set(key, bytes, ttl).await
    }
}

impl<C: Cache + ?Sized> CacheExt for C {}

/// Default capacity of [`InProcessCache`]: 64 MiB of keys and values.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
struct Entry {
    bytes: Vec<u8>,
    ttl: Duration,
}

/// Each entry expires `ttl` after it was last written.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A bounded in-process cache (moka) with per-entry expiry.
///
/// Capacity is counted in bytes of key plus value; when full, moka evicts the entries
/// least likely to be used again. Expiry follows the real monotonic clock.
#[derive(Clone)]
pub struct InProcessCache {
    inner: MokaCache<String, Entry>,
}

impl InProcessCache {
    /// A cache holding at most about `max_bytes` of keys and values.
    pub fn new(max_bytes: u64) -> Self {
        let inner = MokaCache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.bytes.len()).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { inner }
    }
}

impl Default for InProcessCache {
    /// A cache of [`DEFAULT_CACHE_BYTES`].
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_BYTES)
    }
}

impl std::fmt::Debug for InProcessCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

#[async_trait]
impl Cache for InProcessCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.get(key).await.map(|entry| entry.bytes))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()> {
        validate_ttl(ttl)?;
        let entry = Entry { bytes: value, ttl };
        self.inner.insert(key.to_owned(), entry).await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        Ok(self.inner.remove(key).await.is_some())
    }
}
