//! A scope's entity index: open addressing with linear probing, keyed by the entity's
//! 64-bit hash ([`crate::EntityKey::hash64`], already well mixed), 16-byte records (four to
//! a cache line), so a hit is normally one line whose position the hash alone gives: the
//! batch ingest path can touch it for several events before it needs it.

use super::prefetch::prefetch;

/// A free record.
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct Index {
    /// (hash, slot); `slot == EMPTY` when free.
    records: Vec<(u64, u32)>,
    mask: usize,
    len: usize,
}

impl Index {
    pub(crate) fn with_capacity(n: usize) -> Self {
        // At most 3/4 full.
        let size = (n.max(8) * 4 / 3 + 1).next_power_of_two();
        Self {
            records: vec![(0, EMPTY); size],
            mask: size - 1,
            len: 0,
        }
    }

    /// Prefetches the line the probe for `hash` starts at.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(&self.records, hash as usize & self.mask);
    }

    #[inline]
    pub(crate) fn get(&self, hash: u64) -> Option<u32> {
        let mut i = hash as usize & self.mask;
        loop {
            let (h, slot) = self.records[i];
            if slot == EMPTY {
                return None;
            }
            if h == hash {
                return Some(slot);
            }
            i = (i + 1) & self.mask;
        }
    }

    pub(crate) fn contains(&self, hash: u64) -> bool {
        self.get(hash).is_some()
    }

    /// Maps `hash` to `slot` (replacing an earlier mapping).
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        if (self.len + 1) * 4 > self.records.len() * 3 {
            self.grow();
        }
        let mut i = hash as usize & self.mask;
        loop {
            let (h, s) = self.records[i];
            if s == EMPTY {
                self.records[i] = (hash, slot);
                self.len += 1;
                return;
            }
            if h == hash {
                self.records[i].1 = slot;
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Forgets `hash` (backward-shift deletion: no tombstones, probes stay short).
    pub(crate) fn remove(&mut self, hash: u64) {
        let mut i = hash as usize & self.mask;
        loop {
            let (h, s) = self.records[i];
            if s == EMPTY {
                return;
            }
            if h == hash {
                break;
            }
            i = (i + 1) & self.mask;
        }
        self.len -= 1;
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let (h, s) = self.records[j];
            if s == EMPTY {
                self.records[i] = (0, EMPTY);
                return;
            }
            // A record may move back to the hole at `i` unless its home lies cyclically
            // in (i, j].
            let home = h as usize & self.mask;
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.records[i] = (h, s);
                i = j;
            }
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.records);
        let size = (old.len() * 2).max(16);
        self.records = vec![(0, EMPTY); size];
        self.mask = size - 1;
        self.len = 0;
        for (h, s) in old {
            if s != EMPTY {
                self.insert(h, s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::mix64;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_map() {
        let mut index = Index::with_capacity(4);
        let mut map = HashMap::new();
        let mut rng = 7u64;
        for step in 0..20_000u32 {
            rng = mix64(rng);
            // Few distinct keys (and some sharing low bits) so inserts, hits and removals
            // all collide often.
            let hash = (rng % 300) << (rng % 3 * 20);
            match rng >> 60 {
                0..=7 => {
                    index.insert(hash, step);
                    map.insert(hash, step);
                }
                8..=11 => {
                    index.remove(hash);
                    map.remove(&hash);
                }
                _ => {}
            }
            assert_eq!(index.get(hash), map.get(&hash).copied());
            assert_eq!(index.len, map.len());
        }
        for (&h, &s) in &map {
            assert_eq!(index.get(h), Some(s));
        }
    }
}
