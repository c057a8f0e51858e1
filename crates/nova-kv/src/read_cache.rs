//! An in-process read-through cache for data whose every write passes through this
//! process, kept coherent by the writer: the write invalidates the keys it touched, and
//! a read that raced with any write never leaves what it read behind.
//!
//! The race it closes: a reader fetches a value, a writer commits a change and
//! invalidates the key, then the reader stores the value it fetched before the change —
//! a stale entry that would live until evicted. Every write advances an epoch before it
//! invalidates; a fill is stored under the epoch its read started in, and withdrawn if a
//! write happened since. Entries are never stale once the write that changed them has
//! returned.
//!
//! Only correct when no other process writes the same data (the embedded `nova` on
//! SQLite); a service with replicas must not use it.
//!
//! ```
//! use nova_kv::ReadCache;
//!
//! let cache: ReadCache<u64, String> = ReadCache::new(1_000);
//! let ticket = cache.ticket(); // before reading the store
//! let fetched = "Ada".to_owned(); // ... read from the store ...
//! cache.fill(ticket, 42, fetched);
//! assert_eq!(cache.get(&42).as_deref(), Some("Ada"));
//!
//! // A write, then a fill whose read began before it: not kept.
//! let stale = cache.ticket();
//! cache.invalidate([&42]);
//! cache.fill(stale, 42, "Ada (old)".to_owned());
//! assert_eq!(cache.get(&42), None);
//! ```

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the epoch stood when a read began; hand it back to [`ReadCache::fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// A bounded (least-recently-used, moka) map from `K` to `V`, invalidated by writers.
pub struct ReadCache<K, V> {
    entries: moka::sync::Cache<K, V>,
    epoch: AtomicU64,
}

impl<K, V> std::fmt::Debug for ReadCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

impl<K, V> ReadCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most `capacity` entries.
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: moka::sync::Cache::new(capacity),
            epoch: AtomicU64::new(0),
        }
    }

    /// The cached value of `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries.get(key)
    }

    /// Take this before reading the store; the read's result goes to [`Self::fill`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.epoch.load(Ordering::SeqCst))
    }

    /// Stores what a read that began at `ticket` returned, unless a write happened since.
    pub fn fill(&self, ticket: Ticket, key: K, value: V) {
        if self.epoch.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        self.entries.insert(key.clone(), value);
        // A write may have advanced the epoch and invalidated between the check and the
        // insert: then withdraw the insert (at worst a fresh entry is dropped, a miss).
        if self.epoch.load(Ordering::SeqCst) != ticket.0 {
            self.entries.invalidate(&key);
        }
    }

    /// Call after a write commits: drops `keys`, and any fill racing with the write.
    pub fn invalidate<'k>(&self, keys: impl IntoIterator<Item = &'k K>)
    where
        K: 'k,
    {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for key in keys {
            self.entries.invalidate(key);
        }
    }

    /// Call after a write whose effect on keys cannot be named: drops every entry.
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
}
