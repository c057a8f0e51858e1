//! QuickScorer-style batch evaluation over binned feature values.
//!
//! Two exact rewrites of LightGBM's decision `x <= threshold` (missing values included)
//! make every split of every tree a branch-free integer compare that runs for many rows
//! at once:
//!
//! 1. **Bins.** Per feature, the model's distinct (non-NaN) thresholds `T₀ < T₁ < …` are
//!    sorted once. A row's value becomes its rank `r(x) = #{j : Tⱼ < x}`, so for the
//!    split on `Tⱼ`: `x <= Tⱼ ⇔ r(x) < j + 1` — the same decision as the `f64` compare,
//!    for every `f64` (±∞ and ±0 included), with no rounding anywhere. Missing values
//!    get no rank of their own: each split reads one of four *columns* of its feature,
//!    which differ only in where a missing value goes — bin 0 (left of every split) or
//!    the bin type's maximum (right of every split) — and in what counts as missing
//!    (`NaN`, or also `|x| ≤ 1e-35` for zero-as-missing splits). A split whose `NaN` is
//!    read as 0 (no missing type) reads the column that sends `NaN` the way 0 goes at
//!    that split. A `NaN` threshold (no value compares `<=` to it) gets limit 0: every
//!    value goes right, which bins can express only when missing values go right too
//!    (otherwise the model uses the walk).
//! 2. **Bit vectors** (Lucchese et al., *QuickScorer*, SIGIR 2015). A tree's leaves are
//!    numbered left to right, one bit each. Start from all ones; every split whose test
//!    sends the row right clears the bits of the leaves in its left subtree. The exit
//!    leaf is the lowest bit left. Splits can be evaluated in any order, so each is one
//!    compare + or + and for a whole block of rows, without branches or dependent loads.
//!
//! A tree of up to 16 leaves uses `u16` words (with `i16` bins: 8 rows per 128-bit
//! vector), up to 32 `u32` words, up to 64 `u64` words (bins as `f64`, which SSE2
//! compares natively and which hold every bin exactly). Larger trees use the walk.

use std::fmt::Debug;
use std::hint::select_unpredictable;
use std::ops::{BitAnd, BitOr, Not};

use super::{DEFAULT_LEFT, MISSING_NAN, MISSING_ZERO, Tree, ZERO};

/// A leaf bit vector and the bin type compared with it.
pub(super) trait Word:
    Copy + PartialEq + Debug + BitAnd<Output = Self> + BitOr<Output = Self> + Not<Output = Self>
{
    /// A feature value's bin.
    type Bin: Copy + PartialOrd + Debug + Default;
    /// Leaves one word holds.
    const BITS: usize;
    /// No bits.
    const NONE: Self;
    /// The largest bin: right of every split.
    const RIGHT: Self::Bin;
    /// Whether `count` distinct thresholds fit (ranks up to `count`, below `RIGHT`).
    fn fits(count: usize) -> bool;
    /// The largest bin below `limit` (`limit - 1`; −1 for 0).
    fn floor(limit: usize) -> Self::Bin;
    /// Bin `v` (`v` ≤ the `fits` bound).
    fn bin(v: usize) -> Self::Bin;
    /// All ones when `b`, else none.
    fn all(b: bool) -> Self;
    /// Bit `i`.
    fn bit(i: usize) -> Self;
    /// Index of the lowest set bit.
    fn lowest(self) -> usize;
}

macro_rules! int_word {
    ($word:ty, $bin:ty) => {
        impl Word for $word {
            type Bin = $bin;
            const BITS: usize = <$word>::BITS as usize;
            const NONE: Self = 0;
            const RIGHT: $bin = <$bin>::MAX;
            fn fits(count: usize) -> bool {
                count < <$bin>::MAX as usize
            }
            fn floor(limit: usize) -> $bin {
                limit as $bin - 1
            }
            #[inline(always)]
            fn bin(v: usize) -> $bin {
                v as $bin
            }
            #[inline(always)]
            fn all(b: bool) -> Self {
                (b as $word).wrapping_neg()
            }
            fn bit(i: usize) -> Self {
                1 << i
            }
            #[inline(always)]
            fn lowest(self) -> usize {
                self.trailing_zeros() as usize
            }
        }
    };
}

int_word!(u16, i16);
int_word!(u32, i32);

impl Word for u64 {
    type Bin = f64;
    const BITS: usize = 64;
    const NONE: Self = 0;
    const RIGHT: f64 = f64::INFINITY;
    fn fits(count: usize) -> bool {
        count < 1 << 52
    }
    fn floor(limit: usize) -> f64 {
        limit as f64 - 1.0
    }
    #[inline(always)]
    fn bin(v: usize) -> f64 {
        v as f64
    }
    #[inline(always)]
    fn all(b: bool) -> Self {
        (b as u64).wrapping_neg()
    }
    fn bit(i: usize) -> Self {
        1 << i
    }
    #[inline(always)]
    fn lowest(self) -> usize {
        self.trailing_zeros() as usize
    }
}

/// Where a column sends missing values, and what counts as missing.
const MISSING_RIGHT: u8 = 1;
const ZERO_IS_MISSING: u8 = 2;

/// One used feature: its sorted distinct thresholds are `cuts[start..end]`; its columns
/// are `first_column..`, one per variant present in `variants` (bit `v` for variant
/// `v`, in increasing `v`).
#[derive(Debug, Clone, PartialEq)]
struct Feature {
    index: usize,
    start: usize,
    end: usize,
    first_column: usize,
    variants: u8,
}

/// One split: the row goes right when its bin in `column` is `> floor`, which rules out
/// the leaves in `clear` (those of the left subtree).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split<W: Word> {
    clear: W,
    floor: W::Bin,
    column: u32,
}

/// Every tree's splits and leaves, for [`Word`]-sized trees.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Quick<W: Word> {
    cuts: Vec<f64>,
    features: Vec<Feature>,
    columns: usize,
    splits: Vec<Split<W>>,
    /// Per tree: the end of its splits and the start of its leaves.
    trees: Vec<(u32, u32)>,
    /// Leaf values, each tree's in left-to-right order.
    leaves: Vec<f64>,
}

/// The column variant a split reads (bits: `MISSING_RIGHT | ZERO_IS_MISSING`).
fn variant(flags: u8, threshold: f64) -> u8 {
    let default_left = flags & DEFAULT_LEFT != 0;
    if flags & MISSING_ZERO != 0 {
        // NaN is read as 0, which is missing: both go the default way.
        ZERO_IS_MISSING | if default_left { 0 } else { MISSING_RIGHT }
    } else if flags & MISSING_NAN != 0 {
        if default_left { 0 } else { MISSING_RIGHT }
    } else if 0.0 <= threshold {
        0 // NaN is read as 0, which goes left here
    } else {
        MISSING_RIGHT
    }
}

/// Leaf indices left to right, and per split the left-to-right range of its left subtree.
type Layout = (Vec<usize>, Vec<(usize, usize)>);

/// A tree's leaves in left-to-right order (`order[k]` = leaf index) and, per split, the
/// left-to-right range of the leaves of its left subtree. `None` unless the nodes form a
/// proper tree rooted at 0 whose leaves fit in `bits`.
fn layout(tree: &Tree, bits: usize) -> Option<Layout> {
    let n = tree.nodes.len();
    if n + 1 > bits {
        return None;
    }
    let mut order = Vec::with_capacity(n + 1);
    let mut left_range = vec![(usize::MAX, 0); n];
    let mut seen = vec![false; n];
    // Depth-first, left before right: (child, whether this visit closes a left subtree of node).
    enum Step {
        Visit(i32),
        LeftDone(usize),
    }
    let mut stack = vec![Step::Visit(0)];
    let mut starts = vec![0usize; n];
    while let Some(step) = stack.pop() {
        match step {
            Step::Visit(child) if child < 0 => {
                let leaf = !child as usize;
                if leaf >= tree.leaves.len() || order.len() >= bits {
                    return None;
                }
                order.push(leaf);
            }
            Step::Visit(child) => {
                let i = child as usize;
                if i >= n || seen[i] {
                    return None;
                }
                seen[i] = true;
                let node = tree.nodes[i];
                starts[i] = order.len();
                stack.push(Step::Visit(node.right));
                stack.push(Step::LeftDone(i));
                stack.push(Step::Visit(node.left));
            }
            Step::LeftDone(i) => left_range[i] = (starts[i], order.len()),
        }
    }
    if order.len() != n + 1 || seen.iter().any(|s| !s) {
        return None;
    }
    Some((order, left_range))
}

impl<W: Word> Quick<W> {
    /// The layout of `trees`, or `None` when a tree has more than `W::BITS` leaves, is
    /// not a proper tree, or a feature has more distinct thresholds than bins.
    pub(super) fn new(trees: &[Tree], n_features: usize) -> Option<Self> {
        let mut layouts = Vec::with_capacity(trees.len());
        // Per feature: thresholds and the variants read.
        let mut thresholds: Vec<Vec<f64>> = vec![Vec::new(); n_features];
        let mut variants = vec![0u8; n_features];
        for tree in trees {
            if tree.nodes.is_empty() {
                layouts.push(None);
                continue;
            }
            layouts.push(Some(layout(tree, W::BITS)?));
            for node in &tree.nodes {
                let f = node.feature as usize;
                if f >= n_features {
                    return None;
                }
                if !node.threshold.is_nan() {
                    thresholds[f].push(node.threshold);
                }
                variants[f] |= 1 << variant(node.flags, node.threshold);
            }
        }
        let mut quick = Self {
            cuts: Vec::new(),
            features: Vec::new(),
            columns: 0,
            splits: Vec::new(),
            trees: Vec::with_capacity(trees.len()),
            leaves: Vec::new(),
        };
        // Per feature: its place in `features`.
        let mut slot = vec![usize::MAX; n_features];
        for (f, mut t) in thresholds.into_iter().enumerate() {
            if variants[f] == 0 {
                continue;
            }
            t.sort_by(f64::total_cmp);
            t.dedup_by(|a, b| a == b); // -0.0 == 0.0: one threshold, one decision
            if !W::fits(t.len()) {
                return None;
            }
            slot[f] = quick.features.len();
            quick.features.push(Feature {
                index: f,
                start: quick.cuts.len(),
                end: quick.cuts.len() + t.len(),
                first_column: quick.columns,
                variants: variants[f],
            });
            quick.cuts.extend(t);
            quick.columns += variants[f].count_ones() as usize;
        }
        for (tree, layout) in trees.iter().zip(layouts) {
            let Some((order, left)) = layout else {
                quick
                    .leaves
                    .push(tree.leaves.first().copied().unwrap_or(0.0));
                quick
                    .trees
                    .push((quick.splits.len() as u32, quick.leaves.len() as u32 - 1));
                continue;
            };
            for (node, &(lo, hi)) in tree.nodes.iter().zip(&left) {
                let feature = &quick.features[slot[node.feature as usize]];
                let v = variant(node.flags, node.threshold);
                let below = feature.variants & ((1u8 << v) - 1);
                let limit = if node.threshold.is_nan() {
                    if v & MISSING_RIGHT == 0 {
                        return None; // missing values left, every value right: no bin says so
                    }
                    0
                } else {
                    let cuts = &quick.cuts[feature.start..feature.end];
                    cuts.partition_point(|&c| c < node.threshold) + 1
                };
                let mut clear = W::NONE;
                for b in lo..hi {
                    clear = clear | W::bit(b);
                }
                quick.splits.push(Split {
                    clear,
                    floor: W::floor(limit),
                    column: (feature.first_column + below.count_ones() as usize) as u32,
                });
            }
            let start = quick.leaves.len() as u32;
            quick
                .leaves
                .extend(order.iter().map(|&leaf| tree.leaves[leaf]));
            quick.trees.push((quick.splits.len() as u32, start));
        }
        Some(quick)
    }

    /// Adds every tree's leaf value for each of `rows` (row-major, `n` features) to `out`.
    pub(super) fn add(&self, rows: &[f64], n: usize, out: &mut [f64]) {
        // Rows side by side: 64 for `u16` words (eight 128-bit vectors of bits), fewer for
        // wider words.
        match W::BITS {
            16 => self.run::<64>(rows, n, out),
            32 => self.run::<32>(rows, n, out),
            _ => self.run::<16>(rows, n, out),
        }
    }

    fn run<const L: usize>(&self, rows: &[f64], n: usize, out: &mut [f64]) {
        let mut values = vec![[0.0; CHUNK]; n];
        let mut bins = vec![[W::Bin::default(); L]; self.columns];
        // Per tree: each row's exit leaf.
        let mut exits = vec![[0u8; L]; self.trees.len()];
        let mut blocks = rows.chunks_exact(n * L);
        let mut outs = out.chunks_exact_mut(L);
        for (block, o) in (&mut blocks).zip(&mut outs) {
            let sums = self.block(block, n, &mut values, &mut bins, &mut exits);
            for (o, s) in o.iter_mut().zip(sums) {
                *o += s;
            }
        }
        let rest = blocks.remainder();
        let o = outs.into_remainder();
        if !o.is_empty() {
            let mut padded = vec![0.0; n * L];
            padded[..rest.len()].copy_from_slice(rest);
            let sums = self.block(&padded, n, &mut values, &mut bins, &mut exits);
            for (o, s) in o.iter_mut().zip(sums) {
                *o += s;
            }
        }
    }

    /// The sums of leaf values of `L` rows.
    #[inline(never)]
    fn block<const L: usize>(
        &self,
        block: &[f64],
        n: usize,
        values: &mut [[f64; CHUNK]],
        bins: &mut [[W::Bin; L]],
        exits: &mut [[u8; L]],
    ) -> [f64; L] {
        for (chunk, rows) in block.chunks_exact(n * CHUNK).enumerate() {
            // These rows transposed: `values[f][l]` is row `l`'s feature `f`.
            for (l, row) in rows.chunks_exact(n).enumerate() {
                for (v, &x) in values.iter_mut().zip(row) {
                    v[l] = x;
                }
            }
            for feature in &self.features {
                let cuts = &self.cuts[feature.start..feature.end];
                let x = &values[feature.index];
                let rank = rank(cuts, x);
                let mut column = feature.first_column;
                for v in 0..4u8 {
                    if feature.variants & (1 << v) == 0 {
                        continue;
                    }
                    let out = &mut bins[column][chunk * CHUNK..(chunk + 1) * CHUNK];
                    column += 1;
                    if v == 0 {
                        // NaN goes left, and its rank is already 0.
                        for (o, &r) in out.iter_mut().zip(&rank) {
                            *o = W::bin(r as usize);
                        }
                        continue;
                    }
                    let missing = if v & MISSING_RIGHT != 0 {
                        W::RIGHT
                    } else {
                        W::bin(0)
                    };
                    for ((o, &x), &r) in out.iter_mut().zip(x).zip(&rank) {
                        let absent = if v & ZERO_IS_MISSING != 0 {
                            x.is_nan() | (x.abs() <= ZERO)
                        } else {
                            x.is_nan()
                        };
                        *o = if absent { missing } else { W::bin(r as usize) };
                    }
                }
            }
        }
        let mut start = 0;
        for (&(end, _), exits) in self.trees.iter().zip(exits.iter_mut()) {
            let mut bits = [!W::NONE; L];
            for split in &self.splits[start..end as usize] {
                let x = &bins[split.column as usize];
                for (b, &x) in bits.iter_mut().zip(x) {
                    *b = *b & !(W::all(x > split.floor) & split.clear);
                }
            }
            for (e, b) in exits.iter_mut().zip(bits) {
                *e = b.lowest() as u8;
            }
            start = end as usize;
        }
        // Each row's sum in tree order (as the single-row walk adds), `SUMS` rows at a
        // time in registers.
        const SUMS: usize = 8;
        let mut sums = [0.0; L];
        for (chunk, sums) in sums.chunks_exact_mut(SUMS).enumerate() {
            let mut acc = [0.0; SUMS];
            for (&(_, leaves), exits) in self.trees.iter().zip(exits.iter()) {
                let leaves = &self.leaves[leaves as usize..];
                let exits = &exits[chunk * SUMS..(chunk + 1) * SUMS];
                for (a, &e) in acc.iter_mut().zip(exits) {
                    *a += leaves[e as usize];
                }
            }
            sums.copy_from_slice(&acc);
        }
        sums
    }
}

/// Rows binned side by side.
const CHUNK: usize = 16;

/// Up to this many thresholds, a feature's ranks are counted with one compare per
/// threshold (vectorised across rows); above, binary search.
const LINEAR: usize = 24;

/// `#{c ∈ cuts : c < x}` for each `x` (`cuts` sorted ascending, no NaN; a NaN `x` gets 0).
#[inline(always)]
fn rank(cuts: &[f64], x: &[f64; CHUNK]) -> [u64; CHUNK] {
    if cuts.len() <= LINEAR {
        // Counted in `f64` lanes from 2⁵², where the count is the low mantissa bits: the
        // rows stay side by side in vectors (a float sum is not reassociated across
        // thresholds) and the count is read back without a conversion.
        const MAGIC: f64 = 4_503_599_627_370_496.0;
        let mut acc = [MAGIC; CHUNK];
        for &c in cuts {
            for (a, &x) in acc.iter_mut().zip(x) {
                *a += if c < x { 1.0 } else { 0.0 };
            }
        }
        return acc.map(|a| a.to_bits() - MAGIC.to_bits());
    }
    let mut rank = [0u64; CHUNK];
    // Branch-free lower bound, every row in step: the answer lies in `base..=base + len`.
    let mut len = cuts.len();
    while len > 1 {
        let half = len / 2;
        for (b, &x) in rank.iter_mut().zip(x) {
            *b = select_unpredictable(cuts[*b as usize + half - 1] < x, *b + half as u64, *b);
        }
        len -= half;
    }
    for (b, &x) in rank.iter_mut().zip(x) {
        *b += u64::from(cuts[*b as usize] < x);
    }
    rank
}
