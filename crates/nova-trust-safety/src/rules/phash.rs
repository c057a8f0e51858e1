//! Near-duplicate lookup of 64-bit perceptual hashes (pHash/dHash) by Hamming distance,
//! with multi-index hashing (Norouzi et al.): each hash is cut into four 16-bit chunks and
//! indexed by each. If two hashes are within distance `r`, by pigeonhole one of their
//! chunks is within `⌊r/4⌋`, so a query only visits the buckets of chunk values within
//! that radius (137 per chunk for r ≤ 11) instead of every hash.

/// Hamming distance of two hashes.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

const CHUNKS: usize = 4;
const BUCKETS: usize = 1 << 16;

/// An immutable multi-index over hashes, each carrying a payload (e.g. its rule).
#[derive(Debug, Clone)]
pub struct HashIndex<T> {
    hashes: Vec<u64>,
    payloads: Vec<T>,
    /// Per chunk: bucket start offsets (CSR) into `members`.
    offsets: Vec<Vec<u32>>,
    /// Per chunk: entry indexes grouped by chunk value.
    members: Vec<Vec<u32>>,
    /// Per chunk: the hashes in the same order as `members`, so a bucket's candidates
    /// are compared from one contiguous run instead of a random read each.
    inline: Vec<Vec<u64>>,
}

impl<T: Copy> HashIndex<T> {
    /// Indexes `entries` (at most `u32::MAX`).
    pub fn new(entries: &[(u64, T)]) -> Self {
        let hashes: Vec<u64> = entries.iter().map(|e| e.0).collect();
        let payloads: Vec<T> = entries.iter().map(|e| e.1).collect();
        let mut offsets = Vec::with_capacity(CHUNKS);
        let mut members = Vec::with_capacity(CHUNKS);
        let mut inline = Vec::with_capacity(CHUNKS);
        for chunk in 0..CHUNKS {
            let mut counts = vec![0u32; BUCKETS + 1];
            for &h in &hashes {
                counts[chunk_of(h, chunk) + 1] += 1;
            }
            for i in 1..=BUCKETS {
                counts[i] += counts[i - 1];
            }
            let mut fill = counts.clone();
            let mut ids = vec![0u32; hashes.len()];
            for (i, &h) in hashes.iter().enumerate() {
                let slot = &mut fill[chunk_of(h, chunk)];
                ids[*slot as usize] = u32::try_from(i).unwrap_or(u32::MAX);
                *slot += 1;
            }
            offsets.push(counts);
            inline.push(ids.iter().map(|&i| hashes[i as usize]).collect());
            members.push(ids);
        }
        Self {
            hashes,
            payloads,
            offsets,
            members,
            inline,
        }
    }

    /// Number of hashes.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Every entry within `max_distance` of `query` for which `accept(payload, distance)`
    /// holds, calling `found` once per such entry (an entry may be reported once only).
    pub fn search(
        &self,
        query: u64,
        max_distance: u32,
        mut found: impl FnMut(u64, T, u32) -> bool,
    ) {
        if self.hashes.is_empty() {
            return;
        }
        let radius = max_distance / CHUNKS as u32;
        let mut seen = SeenSet::default();
        for chunk in 0..CHUNKS {
            let value = chunk_of(query, chunk) as u16;
            let mut stop = false;
            for_each_within(value, radius, &mut |v| {
                if stop {
                    return;
                }
                let v = usize::from(v);
                let (start, end) = (
                    self.offsets[chunk][v] as usize,
                    self.offsets[chunk][v + 1] as usize,
                );
                for (k, &h) in self.inline[chunk][start..end].iter().enumerate() {
                    let d = distance(query, h);
                    if d > max_distance {
                        continue;
                    }
                    let i = self.members[chunk][start + k] as usize;
                    if seen.insert(i) && !found(h, self.payloads[i], d) {
                        stop = true;
                        return;
                    }
                }
            });
            if stop {
                return;
            }
        }
    }

    /// The closest entry within `max_distance` (smallest distance), if any.
    pub fn nearest(&self, query: u64, max_distance: u32) -> Option<(u64, T, u32)> {
        let mut best: Option<(u64, T, u32)> = None;
        self.search(query, max_distance, |h, t, d| {
            if best.is_none_or(|b| d < b.2) {
                best = Some((h, t, d));
            }
            d > 0
        });
        best
    }
}

/// Linear scan: the reference the index is measured against.
pub fn linear_nearest(hashes: &[u64], query: u64, max_distance: u32) -> Option<(u64, u32)> {
    hashes
        .iter()
        .map(|&h| (h, distance(h, query)))
        .filter(|&(_, d)| d <= max_distance)
        .min_by_key(|&(_, d)| d)
}

fn chunk_of(hash: u64, chunk: usize) -> usize {
    ((hash >> (16 * chunk)) & 0xffff) as usize
}

/// Calls `f` with every 16-bit value within Hamming distance `radius` of `value`.
fn for_each_within(value: u16, radius: u32, f: &mut impl FnMut(u16)) {
    fn flip(value: u16, from_bit: u32, left: u32, f: &mut impl FnMut(u16)) {
        f(value);
        if left == 0 {
            return;
        }
        for bit in from_bit..16 {
            flip(value ^ (1 << bit), bit + 1, left - 1, f);
        }
    }
    flip(value, 0, radius.min(16), f);
}

/// Entries already reported by an earlier chunk (a query touches few, so a short vector).
#[derive(Default)]
struct SeenSet(Vec<usize>);

impl SeenSet {
    fn insert(&mut self, i: usize) -> bool {
        if self.0.contains(&i) {
            false
        } else {
            self.0.push(i);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn neighbours_within_radius_are_enumerated_once() {
        let mut seen = Vec::new();
        for_each_within(0, 2, &mut |v| seen.push(v));
        assert_eq!(seen.len(), 1 + 16 + 120);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 137);
    }

    proptest! {
        #[test]
        fn index_agrees_with_linear_scan(
            hashes in proptest::collection::vec(any::<u64>(), 1..300),
            flips in proptest::collection::vec(0u32..64, 0..12),
            pick in any::<proptest::sample::Index>(),
            max_distance in 0u32..14,
        ) {
            let base = hashes[pick.index(hashes.len())];
            let query = flips.iter().fold(base, |q, b| q ^ (1 << b));
            let entries: Vec<(u64, usize)> = hashes.iter().copied().enumerate().map(|(i, h)| (h, i)).collect();
            let index = HashIndex::new(&entries);
            let fast = index.nearest(query, max_distance).map(|(_, _, d)| d);
            let slow = linear_nearest(&hashes, query, max_distance).map(|(_, d)| d);
            prop_assert_eq!(fast, slow);
        }
    }
}
