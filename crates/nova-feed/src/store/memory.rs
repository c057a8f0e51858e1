//! The in-process timeline store: sharded maps of capped, sorted deques, bounded in the
//! number of materialised timelines (least recently used ones are evicted and rebuilt
//! from SQL on their next read). Nothing survives a restart: every timeline is rebuilt
//! on its first read.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use nova_core::{Error, PostId, Result, Timestamp, UserId};

use super::{Entry, TimelineKey, TimelineStore};

const SHARDS: usize = 64;

/// Default bound on materialised timelines (about 800 × 32 bytes each when full).
pub const DEFAULT_MAX_TIMELINES: usize = 100_000;

/// Fx-style multiplicative hash: keys are server-generated UUIDv7s (random low bits), so
/// a fast non-keyed hash is enough and keeps a 10,000-follower fan-out well under 1 ms.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_isize(&mut self, i: isize) {
        self.write_u64(i as u64);
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

fn hash_of(key: &impl Hash) -> u64 {
    let mut h = IdHasher::default();
    key.hash(&mut h);
    h.finish()
}

fn shard_of(key: &impl Hash) -> usize {
    (hash_of(key) >> 58) as usize % SHARDS
}

struct Timeline {
    /// Oldest first, sorted, no duplicates.
    entries: VecDeque<Entry>,
    last_used: u64,
}

impl Timeline {
    fn add(&mut self, entry: Entry, cap: usize) {
        match self.entries.back() {
            Some(last) if *last >= entry => match self.entries.binary_search(&entry) {
                Ok(_) => {}
                Err(at) => self.entries.insert(at, entry),
            },
            _ => {
                // The common case, a new post: drop the oldest first, so a full ring
                // reuses the slot just freed (no growth, one cache line touched).
                while self.entries.len() >= cap.max(1) {
                    self.entries.pop_front();
                }
                self.entries.push_back(entry);
                return;
            }
        }
        while self.entries.len() > cap {
            self.entries.pop_front();
        }
    }
}

#[derive(Default)]
struct Shard {
    timelines: IdMap<TimelineKey, Timeline>,
    visits: IdMap<UserId, Timestamp>,
}

/// Timelines in this process.
pub struct MemoryTimelineStore {
    shards: Vec<Mutex<Shard>>,
    pulled: Mutex<HashSet<UserId>>,
    per_shard: usize,
    tick: AtomicU64,
}

impl Default for MemoryTimelineStore {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_TIMELINES)
    }
}

impl std::fmt::Debug for MemoryTimelineStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTimelineStore")
            .field("max_timelines", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

fn poisoned() -> Error {
    Error::internal("timeline store lock poisoned")
}

impl MemoryTimelineStore {
    /// A store keeping at most about `max_timelines` materialised timelines.
    pub fn new(max_timelines: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            pulled: Mutex::new(HashSet::new()),
            per_shard: max_timelines.div_ceil(SHARDS).max(1),
            tick: AtomicU64::new(0),
        }
    }

    fn shard(&self, index: usize) -> Result<std::sync::MutexGuard<'_, Shard>> {
        self.shards[index].lock().map_err(|_| poisoned())
    }

    fn tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed)
    }

    /// How many timelines are materialised (for tests and metrics).
    pub fn timelines(&self) -> Result<usize> {
        let mut n = 0;
        for i in 0..SHARDS {
            n += self.shard(i)?.timelines.len();
        }
        Ok(n)
    }
}

/// Drops the least recently used eighth of a full shard.
fn evict(shard: &mut Shard, per_shard: usize) {
    if shard.timelines.len() < per_shard {
        return;
    }
    let mut ages: Vec<u64> = shard.timelines.values().map(|t| t.last_used).collect();
    let drop = (per_shard / 8).max(1).min(ages.len());
    let (_, cutoff, _) = ages.select_nth_unstable(drop - 1);
    let cutoff = *cutoff;
    shard.timelines.retain(|_, t| t.last_used > cutoff);
}

#[async_trait]
impl TimelineStore for MemoryTimelineStore {
    async fn push(&self, timelines: &[TimelineKey], entry: Entry, cap: usize) -> Result<()> {
        // Group by shard so each lock is taken once per fan-out.
        let mut buckets: Vec<Vec<&TimelineKey>> = vec![Vec::new(); SHARDS];
        for key in timelines {
            buckets[shard_of(key)].push(key);
        }
        for (i, keys) in buckets.iter().enumerate() {
            if keys.is_empty() {
                continue;
            }
            let mut shard = self.shard(i)?;
            for key in keys {
                if let Some(t) = shard.timelines.get_mut(*key) {
                    t.add(entry, cap);
                }
            }
        }
        Ok(())
    }

    async fn insert(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        let mut shard = self.shard(shard_of(&timeline))?;
        if let Some(t) = shard.timelines.get_mut(&timeline) {
            for e in entries {
                t.add(*e, cap);
            }
        }
        Ok(())
    }

    async fn rebuild(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        let mut sorted: Vec<Entry> = entries.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let skip = sorted.len().saturating_sub(cap);
        let mut ring = VecDeque::with_capacity(cap.max(1));
        ring.extend(sorted.into_iter().skip(skip));
        let built = Timeline {
            entries: ring,
            last_used: self.tick(),
        };
        let mut shard = self.shard(shard_of(&timeline))?;
        if !shard.timelines.contains_key(&timeline) {
            evict(&mut shard, self.per_shard);
        }
        shard.timelines.insert(timeline, built);
        Ok(())
    }

    async fn page(
        &self,
        timeline: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let tick = self.tick();
        let mut shard = self.shard(shard_of(&timeline))?;
        let Some(t) = shard.timelines.get_mut(&timeline) else {
            return Ok(None);
        };
        t.last_used = tick;
        let end = match before {
            None => t.entries.len(),
            Some(post) => t.entries.partition_point(|e| e.post < post),
        };
        let start = end.saturating_sub(limit);
        Ok(Some(t.entries.range(start..end).rev().copied().collect()))
    }

    async fn remove_author(&self, timeline: TimelineKey, author: UserId) -> Result<usize> {
        let mut shard = self.shard(shard_of(&timeline))?;
        let Some(t) = shard.timelines.get_mut(&timeline) else {
            return Ok(0);
        };
        let before = t.entries.len();
        t.entries.retain(|e| e.author != author);
        Ok(before - t.entries.len())
    }

    async fn remove(&self, timelines: &[TimelineKey], entry: Entry) -> Result<()> {
        for key in timelines {
            let mut shard = self.shard(shard_of(key))?;
            if let Some(t) = shard.timelines.get_mut(key)
                && let Ok(at) = t.entries.binary_search(&entry)
            {
                t.entries.remove(at);
            }
        }
        Ok(())
    }

    async fn clear(&self, timeline: TimelineKey) -> Result<()> {
        self.shard(shard_of(&timeline))?.timelines.remove(&timeline);
        Ok(())
    }

    async fn visit(&self, user: UserId, at: Timestamp) -> Result<Option<Timestamp>> {
        Ok(self.shard(shard_of(&user))?.visits.insert(user, at))
    }

    async fn last_visits(&self, users: &[UserId]) -> Result<Vec<Option<Timestamp>>> {
        users
            .iter()
            .map(|u| Ok(self.shard(shard_of(u))?.visits.get(u).copied()))
            .collect()
    }

    async fn set_pulled(&self, author: UserId, pulled: bool) -> Result<()> {
        let mut set = self.pulled.lock().map_err(|_| poisoned())?;
        if pulled {
            set.insert(author);
        } else {
            set.remove(&author);
        }
        Ok(())
    }

    async fn pulled(&self, authors: &[UserId]) -> Result<Vec<bool>> {
        let set = self.pulled.lock().map_err(|_| poisoned())?;
        Ok(authors.iter().map(|a| set.contains(a)).collect())
    }
}
