//! Bounded-memory counting: a Count-Min sketch (frequencies, per-account caps) and a
//! distinct counter that is exact for small sets and a HyperLogLog above.

use crate::hash::mix64;
use crate::table::prefetch::prefetch;

/// A Count-Min sketch with conservative update: estimates never undercount, and
/// overcount by at most `ε·N` with probability `1 − δ` (width `e/ε`, depth `ln 1/δ`).
#[derive(Debug, Clone)]
pub struct CountMin {
    rows: Vec<u32>,
    mask: usize,
    total: u64,
}

const DEPTH: usize = 4;

impl CountMin {
    /// A sketch with `width` counters per row (rounded up to a power of two), 4 rows.
    pub fn new(width: usize) -> Self {
        let width = width.max(16).next_power_of_two();
        Self {
            rows: vec![0; width * DEPTH],
            mask: width - 1,
            total: 0,
        }
    }

    #[inline]
    fn slots(&self, hash: u64) -> [usize; DEPTH] {
        let h2 = mix64(hash);
        let width = self.mask + 1;
        let mut out = [0; DEPTH];
        for (i, slot) in out.iter_mut().enumerate() {
            let h = hash.wrapping_add((i as u64).wrapping_mul(h2)) ^ (h2 >> (i * 7));
            *slot = i * width + (h as usize & self.mask);
        }
        out
    }

    /// Adds `n` to the item with `hash`; returns the new estimate.
    #[inline]
    pub fn add(&mut self, hash: u64, n: u32) -> u32 {
        let slots = self.slots(hash);
        let est = slots.iter().map(|&s| self.rows[s]).min().unwrap_or(0);
        let new = est.saturating_add(n);
        for s in slots {
            // Conservative update: only raise counters below the new estimate.
            if self.rows[s] < new {
                self.rows[s] = new;
            }
        }
        self.total += u64::from(n);
        new
    }

    /// The estimate for the item with `hash` (never below the true count).
    #[inline]
    pub fn estimate(&self, hash: u64) -> u32 {
        self.slots(hash)
            .iter()
            .map(|&s| self.rows[s])
            .min()
            .unwrap_or(0)
    }

    /// Halves every counter (ageing, so old popularity fades).
    pub fn halve(&mut self) {
        for c in &mut self.rows {
            *c >>= 1;
        }
        self.total /= 2;
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.rows.fill(0);
        self.total = 0;
    }

    /// The sum of everything added since the last clear (halved with the counters).
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// A Count-Min sketch of small counts laid out so that one item's four counters share a
/// 64-byte cache line (one memory access per update): the per-(entity, account)
/// contribution caps. Saturates at 255.
#[derive(Debug, Clone)]
pub struct CapSketch {
    lines: Vec<[u8; 64]>,
    mask: usize,
}

impl CapSketch {
    /// A sketch of about `bytes` bytes (a power of two, at least 4 KiB).
    pub fn new(bytes: usize) -> Self {
        let lines = (bytes / 64).max(64).next_power_of_two();
        Self {
            lines: vec![[0u8; 64]; lines],
            mask: lines - 1,
        }
    }

    /// Counts one more for `hash`; returns the new estimate (never below the true count).
    #[inline]
    pub fn add(&mut self, hash: u64) -> u8 {
        let line = &mut self.lines[(hash as usize) & self.mask];
        let h = hash >> 32;
        let idx = [
            (h & 63) as usize,
            ((h >> 6) & 63) as usize,
            ((h >> 12) & 63) as usize,
            ((h >> 18) & 63) as usize,
        ];
        let est = idx.iter().map(|&i| line[i]).min().unwrap_or(0);
        let new = est.saturating_add(1);
        for i in idx {
            if line[i] < new {
                line[i] = new;
            }
        }
        new
    }

    /// Prefetches the line [`Self::add`] will use for `hash`.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(&self.lines, (hash as usize) & self.mask);
    }

    /// Forgets everything (a new period).
    pub fn clear(&mut self) {
        self.lines.fill([0u8; 64]);
    }
}

const EXACT: usize = 16;
const HLL_BITS: u32 = 7;
const HLL_REGISTERS: usize = 1 << HLL_BITS;
const HLL: u8 = u8::MAX;

/// Counts distinct accounts: exactly up to 16, then a 128-register HyperLogLog (±9 %
/// standard error), inline in 136 bytes (no allocation, so one cache-friendly block).
/// `repr(C)` with the length first: it shares a cache line with the first words.
#[derive(Debug, Clone, PartialEq)]
#[repr(C)]
pub struct Distinct {
    /// Exact count, or [`HLL`].
    len: u8,
    /// Account hashes while exact; registers (8 per word) once a HyperLogLog.
    words: [u64; EXACT],
}

impl Default for Distinct {
    fn default() -> Self {
        Self {
            len: 0,
            words: [0; EXACT],
        }
    }
}

impl Distinct {
    /// Prefetches the lines an insert of `hash` reads: the length's, and the word the
    /// HyperLogLog register of `hash` is in.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(std::slice::from_ref(&self.len), 0);
        prefetch(self.words.as_slice(), hll_index(hash) / 8);
    }

    /// Adds an account by its 64-bit hash.
    #[inline]
    pub fn insert(&mut self, hash: u64) {
        if self.len == HLL {
            hll_add(&mut self.words, hash);
        } else {
            self.insert_exact(hash);
        }
    }

    /// [`Self::insert`] while exact (kept out of line: the common case of a busy entity
    /// is the HyperLogLog's few instructions).
    #[inline(never)]
    fn insert_exact(&mut self, hash: u64) {
        let len = self.len as usize;
        if self.words[..len].contains(&hash) {
            return;
        }
        if len < EXACT {
            self.words[len] = hash;
            self.len += 1;
            return;
        }
        let small = self.words;
        self.words = [0; EXACT];
        self.len = HLL;
        for h in small.into_iter().chain(std::iter::once(hash)) {
            hll_add(&mut self.words, h);
        }
    }

    /// The (estimated) number of distinct accounts.
    pub fn count(&self) -> u64 {
        if self.len == HLL {
            hll_estimate(&self.words)
        } else {
            u64::from(self.len)
        }
    }

    /// The count of the union with `other`.
    pub fn union_count(&self, other: &Distinct) -> u64 {
        let mut merged = self.clone();
        merged.merge(other);
        merged.count()
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Distinct) {
        if other.len != HLL {
            for &h in &other.words[..other.len as usize] {
                self.insert(h);
            }
            return;
        }
        if self.len != HLL {
            let mine = self.clone();
            *self = other.clone();
            for &h in &mine.words[..mine.len as usize] {
                hll_add(&mut self.words, h);
            }
            return;
        }
        for i in 0..HLL_REGISTERS {
            let r = register(&other.words, i);
            if register(&self.words, i) < r {
                set_register(&mut self.words, i, r);
            }
        }
    }

    /// Serializes (for snapshots): `[len, words as little-endian...]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let used = if self.len == HLL {
            EXACT
        } else {
            self.len as usize
        };
        let mut out = Vec::with_capacity(1 + used * 8);
        out.push(self.len);
        for w in &self.words[..used] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Deserializes [`Distinct::to_bytes`]; `None` if malformed.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (&len, rest) = bytes.split_first()?;
        let used = if len == HLL { EXACT } else { len as usize };
        if used > EXACT || rest.len() != used * 8 {
            return None;
        }
        let mut words = [0u64; EXACT];
        for (w, chunk) in words.iter_mut().zip(rest.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Self { words, len })
    }
}

#[inline]
fn register(words: &[u64; EXACT], i: usize) -> u8 {
    (words[i / 8] >> ((i % 8) * 8)) as u8
}

#[inline]
fn set_register(words: &mut [u64; EXACT], i: usize, value: u8) {
    let shift = (i % 8) * 8;
    words[i / 8] = (words[i / 8] & !(0xff << shift)) | (u64::from(value) << shift);
}

/// The register of `hash` (an account hash).
#[inline]
fn hll_index(hash: u64) -> usize {
    (mix64(hash) >> (64 - HLL_BITS)) as usize
}

#[inline]
fn hll_add(words: &mut [u64; EXACT], hash: u64) {
    let hash = mix64(hash);
    let idx = (hash >> (64 - HLL_BITS)) as usize;
    let rank = ((hash << HLL_BITS) | (1 << (HLL_BITS - 1))).leading_zeros() as u8 + 1;
    if register(words, idx) < rank {
        set_register(words, idx, rank);
    }
}

fn hll_estimate(words: &[u64; EXACT]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let regs = (0..HLL_REGISTERS).map(|i| register(words, i));
    let sum: f64 = regs.clone().map(|r| 2f64.powi(-i32::from(r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = regs.filter(|&r| r == 0).count();
    let est = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln() // linear counting for small cardinalities
    } else {
        raw
    };
    est.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_min_never_undercounts() {
        let mut cm = CountMin::new(64);
        for i in 0..1000u64 {
            cm.add(mix64(i % 100), 1);
        }
        for i in 0..100u64 {
            assert!(cm.estimate(mix64(i)) >= 10);
        }
        assert_eq!(cm.total(), 1000);
    }

    #[test]
    fn distinct_is_exact_then_close() {
        let mut d = Distinct::default();
        for i in 0..16u64 {
            d.insert(i);
            d.insert(i);
        }
        assert_eq!(d.count(), 16);
        assert_eq!(Distinct::from_bytes(&d.to_bytes()).unwrap(), d);
        for i in 8..10_000u64 {
            d.insert(i);
        }
        let n = d.count() as f64;
        assert!((n - 10_000.0).abs() / 10_000.0 < 0.25, "{n}");
        let back = Distinct::from_bytes(&d.to_bytes()).unwrap();
        assert_eq!(back.count(), d.count());
    }

    #[test]
    fn union_counts_each_account_once() {
        let mut a = Distinct::default();
        let mut b = Distinct::default();
        for i in 0..5u64 {
            a.insert(i);
            b.insert(i + 3);
        }
        assert_eq!(a.union_count(&b), 8);
    }

    #[test]
    fn cap_sketch_counts_per_item() {
        let mut caps = CapSketch::new(4096);
        for _ in 0..5 {
            caps.add(mix64(1));
        }
        assert_eq!(caps.add(mix64(1)), 6);
        assert_eq!(caps.add(mix64(2)), 1);
        caps.clear();
        assert_eq!(caps.add(mix64(1)), 1);
    }
}
