//! The in-process timeline store, bounded in the number of materialised timelines
//! (least recently used ones are evicted and rebuilt from SQL on their next read).
//! Nothing survives a restart: every timeline is rebuilt on its first read.
//!
//! Layout, for fan-out speed (one post written into 10,000 timelines in well under a
//! millisecond): 64 shards, each behind its own lock, each an open-addressing table
//! (linear probing) with one 64-byte bucket per timeline. A bucket holds the timeline's
//! key, the header of its ring buffer of 32-byte-aligned entries and its newest post id,
//! so the common write — a post newer than every entry — reads one bucket (the tables
//! of 10,000 timelines take about 1 MB and mostly stay in cache) and writes one ring
//! slot. Older posts, duplicates and removals take a slower path that rewrites the ring
//! in order. A fan-out groups its timelines by shard, so each lock is taken once.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use nova_core::id::Uuid;
use nova_core::{Error, PostId, Result, Timestamp, UserId};

use super::{Entry, TimelineKey, TimelineStore};

const SHARDS: usize = 64;
/// `hash >> SHARD_SHIFT` is the shard (the low bits place the key in its shard's table).
const SHARD_SHIFT: u32 = 64 - SHARDS.trailing_zeros();
/// Buckets of a shard's table when it first holds a timeline.
const MIN_BUCKETS: usize = 16;
/// Ring slots given to a timeline that has to grow (never more than its cap).
const MIN_RING: usize = 8;

/// Default bound on materialised timelines (about 800 × 32 bytes each when full).
pub const DEFAULT_MAX_TIMELINES: usize = 100_000;

/// Fx-style multiplicative hash for the visit map: keys are server-generated UUIDv7s
/// (random low bits), so a fast non-keyed hash is enough.
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

fn user_hash(user: &UserId) -> u64 {
    let mut h = IdHasher::default();
    user.hash(&mut h);
    h.finish()
}

/// A timeline key's hash: a folded 64×64→128-bit multiply of the id's two halves (with
/// a different constant per kind), which mixes every input bit into both the shard bits
/// (high) and the table index bits (low).
fn key_hash(key: &TimelineKey) -> u64 {
    let (salt, user) = match key {
        TimelineKey::Home(u) => (0x243f_6a88_85a3_08d3_u64, u),
        TimelineKey::Author(u) => (0x1319_8a2e_0370_7344_u64, u),
    };
    let (hi, lo) = user.as_uuid().as_u64_pair();
    let x = u128::from(hi ^ salt) * u128::from(lo ^ 0xa409_3822_299f_31d0);
    (x as u64) ^ ((x >> 64) as u64)
}

const fn shard_of_hash(hash: u64) -> usize {
    (hash >> SHARD_SHIFT) as usize
}

/// One ring slot: an entry aligned so it never straddles two cache lines.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot(Entry);

const NIL_SLOT: Slot = Slot(Entry::new(
    PostId::from_uuid(Uuid::nil()),
    UserId::from_uuid(Uuid::nil()),
));

fn ring_of(n: usize) -> Box<[Slot]> {
    vec![NIL_SLOT; n].into_boxed_slice()
}

/// One table bucket: a timeline (or nothing), its ring header and its newest post, in
/// one cache line.
#[repr(C, align(64))]
struct Bucket {
    /// The ring: `len` entries from `head` on (wrapping), oldest first, sorted, no
    /// duplicates.
    ring: Box<[Slot]>,
    head: u32,
    len: u32,
    /// `None`: an empty bucket.
    key: Option<TimelineKey>,
    /// The newest entry's post when `len > 0` (the fast-path test of a push).
    newest: PostId,
}

const _: () = assert!(std::mem::size_of::<Bucket>() == 64);

impl Default for Bucket {
    fn default() -> Self {
        Self {
            ring: Box::new([]),
            head: 0,
            len: 0,
            key: None,
            newest: NIL_SLOT.0.post,
        }
    }
}

/// Ring sizes and positions fit in `u32`: a cap beyond that is clamped (4 billion
/// entries per timeline is far beyond any configuration).
fn clamp_cap(cap: usize) -> usize {
    cap.min(u32::MAX as usize)
}

impl Bucket {
    fn len(&self) -> usize {
        self.len as usize
    }

    /// The `i`-th entry, oldest first (`i < len`).
    fn get(&self, i: usize) -> Entry {
        let mut at = self.head as usize + i;
        if at >= self.ring.len() {
            at -= self.ring.len();
        }
        self.ring[at].0
    }

    /// How many entries order before `post`.
    fn below(&self, post: PostId) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).post < post {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Every entry, oldest first.
    fn entries(&self) -> Vec<Entry> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// Replaces the entries with the newest `cap` of `sorted` (sorted, no duplicates),
    /// growing the ring if they do not fit.
    fn set(&mut self, sorted: &[Entry], cap: usize) {
        let keep = &sorted[sorted.len().saturating_sub(clamp_cap(cap))..];
        if keep.len() > self.ring.len() {
            let grown = (self.ring.len() * 2).max(MIN_RING).min(clamp_cap(cap));
            self.ring = ring_of(keep.len().max(grown));
        }
        for (slot, e) in self.ring.iter_mut().zip(keep) {
            *slot = Slot(*e);
        }
        self.head = 0;
        self.len = keep.len() as u32;
        self.newest = keep.last().map_or(NIL_SLOT.0.post, |e| e.post);
    }

    /// Adds `entry`, keeping the newest `cap`.
    fn add(&mut self, entry: Entry, cap: usize) {
        let cap = clamp_cap(cap);
        if cap == 0 || (self.len > 0 && entry.post <= self.newest) {
            // An older post, a duplicate, or nothing kept: rewrite in order.
            let mut all = self.entries();
            if let Err(at) = all.binary_search(&entry) {
                all.insert(at, entry);
            }
            self.set(&all, cap);
            return;
        }
        // The common case, a post newer than every entry: drop the oldest if full
        // (reusing its slot), then write one slot.
        let mut len = self.len();
        let mut head = self.head as usize;
        if len >= cap {
            let drop = len + 1 - cap;
            head += drop;
            if head >= self.ring.len() {
                head -= self.ring.len();
            }
            len -= drop;
        } else if len == self.ring.len() {
            // len < cap: room to grow.
            let mut ring = ring_of((len * 2).max(MIN_RING).min(cap));
            for (i, slot) in ring.iter_mut().enumerate().take(len) {
                *slot = Slot(self.get(i));
            }
            self.ring = ring;
            head = 0;
        }
        let mut at = head + len;
        if at >= self.ring.len() {
            at -= self.ring.len();
        }
        self.ring[at] = Slot(entry);
        self.head = head as u32;
        self.len = (len + 1) as u32;
        self.newest = entry.post;
    }
}

/// One shard: a linear-probing table of timelines (at most half full) and the visits.
#[derive(Default)]
struct Shard {
    /// A power of two in length, or empty.
    buckets: Vec<Bucket>,
    /// Last use of each bucket's timeline (only reads and rebuilds touch it).
    used: Vec<u64>,
    timelines: usize,
    visits: IdMap<UserId, Timestamp>,
}

impl Shard {
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// The bucket holding `key` (hashing to `hash`).
    fn find(&self, key: &TimelineKey, hash: u64) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.buckets[i].key {
                None => return None,
                Some(k) if k == key => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Puts `bucket` (holding a key not in the table) in its place; returns the index.
    fn place(&mut self, bucket: Bucket, used: u64, hash: u64) -> usize {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.buckets[i].key.is_some() {
            i = (i + 1) & mask;
        }
        self.buckets[i] = bucket;
        self.used[i] = used;
        self.timelines += 1;
        i
    }

    /// Rebuilds the table with `size` buckets, keeping the timelines `keep` accepts.
    fn rehash(&mut self, size: usize, keep: impl Fn(u64) -> bool) {
        let old = std::mem::take(&mut self.buckets);
        let used = std::mem::take(&mut self.used);
        self.buckets = (0..size).map(|_| Bucket::default()).collect();
        self.used = vec![0; size];
        self.timelines = 0;
        for (bucket, used) in old.into_iter().zip(used) {
            if let Some(key) = &bucket.key
                && keep(used)
            {
                let hash = key_hash(key);
                self.place(bucket, used, hash);
            }
        }
    }

    /// Inserts a new timeline, first evicting the least recently used eighth of a
    /// full shard and growing the table to stay at most half full.
    fn insert_new(&mut self, bucket: Bucket, used: u64, hash: u64, per_shard: usize) {
        if self.timelines >= per_shard {
            let mut ages: Vec<u64> = self
                .buckets
                .iter()
                .zip(&self.used)
                .filter(|(b, _)| b.key.is_some())
                .map(|(_, u)| *u)
                .collect();
            let drop = (per_shard / 8).max(1).min(ages.len());
            if drop > 0 {
                let (_, cutoff, _) = ages.select_nth_unstable(drop - 1);
                let cutoff = *cutoff;
                self.rehash(self.buckets.len(), |u| u > cutoff);
            }
        }
        if (self.timelines + 1) * 2 > self.buckets.len() {
            let size = (self.buckets.len() * 2).max(MIN_BUCKETS);
            self.rehash(size, |_| true);
        }
        self.place(bucket, used, hash);
    }

    /// Empties bucket `i`, shifting later buckets of its probe run back.
    fn remove_at(&mut self, mut i: usize) {
        let mask = self.mask();
        self.buckets[i] = Bucket::default();
        self.timelines -= 1;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let Some(key) = &self.buckets[j].key else {
                return;
            };
            let ideal = key_hash(key) as usize & mask;
            // Bucket j may move back to i when i lies on its probe path (ideal..=j).
            if j.wrapping_sub(ideal) & mask >= j.wrapping_sub(i) & mask {
                self.buckets.swap(i, j);
                self.used.swap(i, j);
                i = j;
            }
        }
    }
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
            n += self.shard(i)?.timelines;
        }
        Ok(n)
    }

    /// Runs `f` on `timeline`'s bucket if it is materialised.
    fn with<T>(
        &self,
        timeline: &TimelineKey,
        f: impl FnOnce(&mut Bucket) -> T,
    ) -> Result<Option<T>> {
        let hash = key_hash(timeline);
        let mut shard = self.shard(shard_of_hash(hash))?;
        Ok(shard.find(timeline, hash).map(|i| f(&mut shard.buckets[i])))
    }
}

#[async_trait]
impl TimelineStore for MemoryTimelineStore {
    async fn push(&self, timelines: &[TimelineKey], entry: Entry, cap: usize) -> Result<()> {
        // Hash every key, then group them by shard (a counting sort), so each lock is
        // taken once per fan-out.
        let mut counts = [0u32; SHARDS + 1];
        let hashes: Vec<u64> = timelines
            .iter()
            .map(|k| {
                let hash = key_hash(k);
                counts[shard_of_hash(hash) + 1] += 1;
                hash
            })
            .collect();
        for s in 0..SHARDS {
            counts[s + 1] += counts[s];
        }
        let mut order = vec![0u32; timelines.len()];
        let mut next = counts;
        for (i, hash) in hashes.iter().enumerate() {
            let s = shard_of_hash(*hash);
            order[next[s] as usize] = i as u32;
            next[s] += 1;
        }
        for s in 0..SHARDS {
            let group = &order[counts[s] as usize..counts[s + 1] as usize];
            if group.is_empty() {
                continue;
            }
            let mut shard = self.shard(s)?;
            for &i in group {
                let i = i as usize;
                if let Some(b) = shard.find(&timelines[i], hashes[i]) {
                    shard.buckets[b].add(entry, cap);
                }
            }
        }
        Ok(())
    }

    async fn insert(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        self.with(&timeline, |b| {
            let mut all = b.entries();
            all.extend_from_slice(entries);
            all.sort_unstable();
            all.dedup();
            b.set(&all, cap);
        })?;
        Ok(())
    }

    async fn rebuild(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        let mut sorted: Vec<Entry> = entries.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let kept = sorted.len().min(clamp_cap(cap));
        let mut built = Bucket {
            ring: ring_of(kept.max(MIN_RING.min(clamp_cap(cap)))),
            key: Some(timeline),
            ..Bucket::default()
        };
        built.set(&sorted, cap);
        let used = self.tick();
        let hash = key_hash(&timeline);
        let mut shard = self.shard(shard_of_hash(hash))?;
        match shard.find(&timeline, hash) {
            Some(i) => {
                shard.buckets[i] = built;
                shard.used[i] = used;
            }
            None => shard.insert_new(built, used, hash, self.per_shard),
        }
        Ok(())
    }

    async fn page(
        &self,
        timeline: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let tick = self.tick();
        let hash = key_hash(&timeline);
        let mut shard = self.shard(shard_of_hash(hash))?;
        let Some(i) = shard.find(&timeline, hash) else {
            return Ok(None);
        };
        shard.used[i] = tick;
        let b = &shard.buckets[i];
        let end = match before {
            None => b.len(),
            Some(post) => b.below(post),
        };
        let start = end.saturating_sub(limit);
        Ok(Some((start..end).rev().map(|i| b.get(i)).collect()))
    }

    async fn remove_author(&self, timeline: TimelineKey, author: UserId) -> Result<usize> {
        Ok(self
            .with(&timeline, |b| {
                let mut all = b.entries();
                let before = all.len();
                all.retain(|e| e.author != author);
                let gone = before - all.len();
                if gone > 0 {
                    b.set(&all, usize::MAX);
                }
                gone
            })?
            .unwrap_or(0))
    }

    async fn remove(&self, timelines: &[TimelineKey], entry: Entry) -> Result<()> {
        for key in timelines {
            self.with(key, |b| {
                let at = b.below(entry.post);
                if at < b.len() && b.get(at) == entry {
                    let mut all = b.entries();
                    all.remove(at);
                    b.set(&all, usize::MAX);
                }
            })?;
        }
        Ok(())
    }

    async fn clear(&self, timeline: TimelineKey) -> Result<()> {
        let hash = key_hash(&timeline);
        let mut shard = self.shard(shard_of_hash(hash))?;
        if let Some(i) = shard.find(&timeline, hash) {
            shard.remove_at(i);
        }
        Ok(())
    }

    async fn visit(&self, user: UserId, at: Timestamp) -> Result<Option<Timestamp>> {
        Ok(self
            .shard(shard_of_hash(user_hash(&user)))?
            .visits
            .insert(user, at))
    }

    async fn last_visits(&self, users: &[UserId]) -> Result<Vec<Option<Timestamp>>> {
        users
            .iter()
            .map(|u| {
                Ok(self
                    .shard(shard_of_hash(user_hash(u)))?
                    .visits
                    .get(u)
                    .copied())
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(post: u128, author: u128) -> Entry {
        Entry::new(
            PostId::from_uuid(Uuid::from_u128(post)),
            UserId::from_uuid(Uuid::from_u128(author)),
        )
    }

    /// The ring against a sorted, capped reference model, through wrap-around, growth,
    /// cap changes, older posts, duplicates and removals.
    #[test]
    fn ring_matches_a_sorted_model() {
        let mut b = Bucket::default();
        let mut model: Vec<Entry> = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut newest = 1000u128;
        for step in 0..20_000 {
            let cap = [5usize, 8, 12, 40][(step / 2000) % 4];
            let added = match rand(10) {
                0..=5 => {
                    newest += 1 + u128::from(rand(3));
                    Some(entry(newest, u128::from(rand(4))))
                }
                6 => Some(entry(newest - u128::from(rand(60)), u128::from(rand(4)))),
                7 if !model.is_empty() => Some(model[rand(model.len() as u64) as usize]),
                8 if !model.is_empty() => {
                    let e = model[rand(model.len() as u64) as usize];
                    model.retain(|m| *m != e);
                    let mut all = b.entries();
                    all.retain(|m| *m != e);
                    b.set(&all, usize::MAX);
                    None
                }
                _ => None,
            };
            if let Some(e) = added {
                b.add(e, cap);
                model.push(e);
                model.sort_unstable();
                model.dedup();
                let skip = model.len().saturating_sub(cap);
                model.drain(..skip);
            }
            assert_eq!(b.entries(), model, "step {step}");
            assert!(b.len() <= b.ring.len());
            if let Some(last) = model.last() {
                assert_eq!(b.newest, last.post);
            }
        }
    }

    #[test]
    fn table_survives_removal_and_eviction() {
        let mut shard = Shard::default();
        let keys: Vec<TimelineKey> = (0..500).map(|_| TimelineKey::Home(UserId::new())).collect();
        for (n, k) in keys.iter().enumerate() {
            let b = Bucket {
                key: Some(*k),
                ..Bucket::default()
            };
            shard.insert_new(b, n as u64, key_hash(k), 10_000);
        }
        for (n, k) in keys.iter().enumerate() {
            if n % 3 == 0 {
                let i = shard.find(k, key_hash(k)).unwrap();
                shard.remove_at(i);
            }
        }
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(shard.find(k, key_hash(k)).is_some(), n % 3 != 0, "{n}");
        }
        assert_eq!(shard.timelines, 333);
    }
}
