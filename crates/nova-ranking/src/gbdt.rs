//! Gradient-boosted decision trees, evaluated natively. Loaded from LightGBM text
//! models ([`crate::lightgbm`]) or XGBoost JSON models ([`crate::xgboost`]). A batch is
//! evaluated QuickScorer-style over binned feature values when every tree has at most 64
//! leaves ([`quick`]: exact integer forms of the same decisions, 64 rows side by side);
//! larger trees are walked, a block of rows at a time, branch-free. Single rows and
//! explanations use the plain walk of [`Tree`], the reference the batch paths are tested
//! against.

use crate::scorer::{Contribution, Explanation, Scorer, name, sort_contributions};

mod quick;

use quick::Quick;

/// Go left when the value is missing.
pub(crate) const DEFAULT_LEFT: u8 = 1;
/// Zero (|x| ≤ 1e-35) counts as missing.
pub(crate) const MISSING_ZERO: u8 = 2;
/// `NaN` counts as missing (otherwise `NaN` is treated as 0).
pub(crate) const MISSING_NAN: u8 = 4;

/// LightGBM's `kZeroThreshold`.
const ZERO: f64 = 1e-35;

/// One split. Children `< 0` are leaves (`!child` is the leaf index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Node {
    pub(crate) threshold: f64,
    pub(crate) feature: u32,
    pub(crate) left: i32,
    pub(crate) right: i32,
    pub(crate) flags: u8,
}

impl Node {
    /// The child a value leads to: LightGBM's numerical decision, missing values included.
    #[inline(always)]
    fn next(&self, row: &[f64]) -> i32 {
        let mut x = row.get(self.feature as usize).copied().unwrap_or(f64::NAN);
        if x.is_nan() && self.flags & MISSING_NAN == 0 {
            x = 0.0;
        }
        let missing = (self.flags & MISSING_ZERO != 0 && x.abs() <= ZERO)
            || (self.flags & MISSING_NAN != 0 && x.is_nan());
        let left = if missing {
            self.flags & DEFAULT_LEFT != 0
        } else {
            x <= self.threshold
        };
        if left { self.left } else { self.right }
    }
}

/// The most nodes (splits + leaves) in one tree and the most features: indices are
/// `u16`, so a node is 16 bytes.
pub(crate) const MAX_FLAT: usize = u16::MAX as usize;

/// Rows walked through a tree side by side: independent dependency chains the CPU
/// overlaps, instead of one row's compare → load → compare chain at a time.
const LANES: usize = 16;

/// A node of the branch-free layout: leaves are terminal nodes that point to themselves,
/// so every row walks exactly `depth` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FlatNode {
    threshold: f64,
    feature: u16,
    left: u16,
    right: u16,
    /// `NAN_LEFT | DEFAULT_LEFT | ZERO_MISSING`.
    bits: u8,
}

/// Where `NaN` goes (LightGBM: the default direction if NaN is "missing", else NaN is
/// read as 0).
const NAN_LEFT: u8 = 1;
const FLAT_DEFAULT_LEFT: u8 = 2;
const ZERO_MISSING: u8 = 4;

impl FlatNode {
    /// LightGBM's numerical decision without branches. `ZEROS`: whether any node of the
    /// model treats zero as missing (rare; the common path skips that test).
    #[inline(always)]
    fn next<const ZEROS: bool>(&self, x: f64) -> u16 {
        let is_nan = x.is_nan();
        let plain = (x <= self.threshold) | (is_nan & (self.bits & NAN_LEFT != 0));
        let left = if ZEROS {
            let zero = (self.bits & ZERO_MISSING != 0) & (is_nan | (x.abs() <= ZERO));
            (zero & (self.bits & FLAT_DEFAULT_LEFT != 0)) | (!zero & plain)
        } else {
            plain
        };
        if left { self.left } else { self.right }
    }
}

/// One tree's place in the [`Forest`]: its nodes are `nodes[base..base + len]`, with
/// tree-local `u16` child indices, so a node stays 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TreeSpan {
    base: u32,
    depth: u16,
    /// Tree-local nodes below this index are splits; from it on, leaves.
    internal: u16,
}

/// Every tree in the branch-free layout, in one contiguous node array (and one leaf-value
/// array indexed the same way), so a batch walks all trees for a block of rows while the
/// rows stay in L1 and the whole forest (a few tens of KB) stays in L2.
#[derive(Debug, Clone, PartialEq, Default)]
struct Forest {
    nodes: Vec<FlatNode>,
    /// Per node: the leaf value (terminal nodes) or 0.
    values: Vec<f64>,
    trees: Vec<TreeSpan>,
    /// Whether any node treats zero as missing.
    zeros: bool,
}

/// Rows per block: the block's rows (`BLOCK × features × 8` bytes) stay in L1 while every
/// tree is walked for them.
const BLOCK: usize = 16;

impl Forest {
    fn new(trees: &[Tree]) -> Self {
        let mut forest = Self::default();
        for tree in trees {
            forest.push(tree);
        }
        forest.zeros = forest.nodes.iter().any(|n| n.bits & ZERO_MISSING != 0);
        forest
    }

    fn push(&mut self, tree: &Tree) {
        let internal = tree.nodes.len();
        // The loader keeps trees under 65,536 nodes and features (MAX_FLAT).
        let target = |child: i32| -> u16 {
            if child < 0 {
                (internal + !child as usize) as u16
            } else {
                child as u16
            }
        };
        let base = self.nodes.len() as u32;
        for n in &tree.nodes {
            let nan_left = if n.flags & MISSING_NAN != 0 || n.flags & MISSING_ZERO != 0 {
                n.flags & DEFAULT_LEFT != 0
            } else {
                0.0 <= n.threshold
            };
            let mut bits = 0;
            if nan_left {
                bits |= NAN_LEFT;
            }
            if n.flags & DEFAULT_LEFT != 0 {
                bits |= FLAT_DEFAULT_LEFT;
            }
            if n.flags & MISSING_ZERO != 0 {
                bits |= ZERO_MISSING;
            }
            self.nodes.push(FlatNode {
                threshold: n.threshold,
                feature: n.feature as u16,
                left: target(n.left),
                right: target(n.right),
                bits,
            });
            self.values.push(0.0);
        }
        for (i, v) in tree.leaves.iter().enumerate() {
            let me = (internal + i) as u16;
            self.nodes.push(FlatNode {
                threshold: f64::INFINITY,
                feature: 0,
                left: me,
                right: me,
                bits: NAN_LEFT,
            });
            self.values.push(*v);
        }
        self.trees.push(TreeSpan {
            base,
            depth: depth(&tree.nodes, 0).min(u16::MAX as usize) as u16,
            internal: internal as u16,
        });
    }

    /// Adds every tree's leaf value for each of `rows` (row-major, `n` features) to `out`.
    fn add(&self, rows: &[f64], n: usize, out: &mut [f64]) {
        if self.zeros {
            self.add_with::<true>(rows, n, out);
        } else {
            self.add_with::<false>(rows, n, out);
        }
    }

    fn add_with<const ZEROS: bool>(&self, rows: &[f64], n: usize, out: &mut [f64]) {
        let mut blocks = rows.chunks_exact(n * BLOCK);
        let mut outs = out.chunks_exact_mut(BLOCK);
        for (block, o) in (&mut blocks).zip(&mut outs) {
            let mut sums = [0.0; BLOCK];
            for tree in &self.trees {
                let nodes = &self.nodes[tree.base as usize..];
                let values = &self.values[tree.base as usize..];
                for (lanes, sums) in sums.chunks_exact_mut(LANES).enumerate() {
                    let block = &block[lanes * LANES * n..];
                    let mut idx = [0u16; LANES];
                    for _ in 0..tree.depth {
                        for (lane, i) in idx.iter_mut().enumerate() {
                            let node = &nodes[*i as usize];
                            let x = block[lane * n + node.feature as usize];
                            *i = node.next::<ZEROS>(x);
                        }
                        // Stop once every lane has reached a leaf (leaves follow the splits).
                        if idx.iter().all(|&i| i >= tree.internal) {
                            break;
                        }
                    }
                    for (s, i) in sums.iter_mut().zip(idx) {
                        *s += values[i as usize];
                    }
                }
            }
            for (o, s) in o.iter_mut().zip(sums) {
                *o += s;
            }
        }
        for (row, o) in blocks
            .remainder()
            .chunks_exact(n)
            .zip(outs.into_remainder())
        {
            let mut sum = 0.0;
            for tree in &self.trees {
                let nodes = &self.nodes[tree.base as usize..];
                let mut i = 0u16;
                for _ in 0..tree.depth {
                    let node = &nodes[i as usize];
                    i = node.next::<ZEROS>(row[node.feature as usize]);
                }
                sum += self.values[tree.base as usize + i as usize];
            }
            *o += sum;
        }
    }
}

/// The longest path from `child` to a leaf.
fn depth(nodes: &[Node], child: i32) -> usize {
    if child < 0 || nodes.is_empty() {
        return 0;
    }
    let n = nodes[child as usize];
    1 + depth(nodes, n.left).max(depth(nodes, n.right))
}

/// One tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
    pub(crate) leaves: Vec<f64>,
    /// Expected value below each node (count-weighted mean of its leaves), for explain.
    pub(crate) node_values: Vec<f64>,
}

impl Tree {
    /// A tree from nodes, leaf values and leaf sample counts.
    pub(crate) fn new(nodes: Vec<Node>, leaves: Vec<f64>, leaf_counts: &[f64]) -> Self {
        let mut tree = Self {
            node_values: vec![0.0; nodes.len()],
            nodes,
            leaves,
        };
        if !tree.nodes.is_empty() {
            tree.fill_values(0, leaf_counts);
        }
        tree
    }

    /// Returns (weight, weighted sum) of the subtree at `child`.
    fn fill_values(&mut self, child: i32, counts: &[f64]) -> (f64, f64) {
        if child < 0 {
            let leaf = !child as usize;
            let w = counts.get(leaf).copied().unwrap_or(1.0).max(1e-12);
            return (w, w * self.leaves.get(leaf).copied().unwrap_or(0.0));
        }
        let node = self.nodes[child as usize];
        let (wl, sl) = self.fill_values(node.left, counts);
        let (wr, sr) = self.fill_values(node.right, counts);
        self.node_values[child as usize] = (sl + sr) / (wl + wr);
        (wl + wr, sl + sr)
    }

    #[inline]
    fn leaf(&self, row: &[f64]) -> f64 {
        if self.nodes.is_empty() {
            return self.leaves.first().copied().unwrap_or(0.0);
        }
        let mut i = 0i32;
        // Depth is bounded by the node count; a malformed cycle cannot loop forever.
        for _ in 0..=self.nodes.len() {
            let next = self.nodes[i as usize].next(row);
            if next < 0 {
                return self.leaves[!next as usize];
            }
            i = next;
        }
        0.0
    }

    fn expected(&self) -> f64 {
        self.node_values
            .first()
            .copied()
            .unwrap_or_else(|| self.leaves.first().copied().unwrap_or(0.0))
    }

    /// Saabas attribution: each split's feature gets the change in expected value.
    fn attribute(&self, row: &[f64], out: &mut [f64]) {
        let mut i = 0i32;
        for _ in 0..=self.nodes.len() {
            if i < 0 || self.nodes.is_empty() {
                return;
            }
            let node = self.nodes[i as usize];
            let next = node.next(row);
            let before = self.node_values[i as usize];
            let after = if next < 0 {
                self.leaves[!next as usize]
            } else {
                self.node_values[next as usize]
            };
            if let Some(slot) = out.get_mut(node.feature as usize) {
                *slot += after - before;
            }
            i = next;
        }
    }
}

/// How a batch is evaluated: bit vectors over binned values when every tree has at
/// most 64 leaves ([`quick`]), else the branch-free walk.
#[derive(Debug, Clone, PartialEq)]
enum Engine {
    Quick16(Quick<u16>),
    Quick32(Quick<u32>),
    Quick64(Quick<u64>),
    Walk(Forest),
}

impl Engine {
    fn new(trees: &[Tree], n_features: usize) -> Self {
        let leaves = trees.iter().map(|t| t.nodes.len() + 1).max().unwrap_or(1);
        let quick = if leaves <= 16 {
            Quick::new(trees, n_features).map(Self::Quick16)
        } else {
            None
        };
        let quick = quick.or_else(|| {
            if leaves <= 32 {
                Quick::new(trees, n_features).map(Self::Quick32)
            } else {
                None
            }
        });
        quick
            .or_else(|| Quick::new(trees, n_features).map(Self::Quick64))
            .unwrap_or_else(|| Self::Walk(Forest::new(trees)))
    }

    fn add(&self, rows: &[f64], n: usize, out: &mut [f64]) {
        match self {
            Self::Quick16(q) => q.add(rows, n, out),
            Self::Quick32(q) => q.add(rows, n, out),
            Self::Quick64(q) => q.add(rows, n, out),
            Self::Walk(f) => f.add(rows, n, out),
        }
    }
}

/// An ensemble: `raw = Σ leaf values`, `score = sigmoid(scale · raw)` for binary models.
#[derive(Debug, Clone, PartialEq)]
pub struct GbdtModel {
    pub(crate) trees: Vec<Tree>,
    engine: Engine,
    pub(crate) n_features: usize,
    /// `Some(scale)`: a binary classifier (LightGBM's `sigmoid:` parameter).
    pub(crate) sigmoid: Option<f64>,
    /// The margin every row starts from (XGBoost's base score; LightGBM folds it into
    /// the first tree, so 0 there).
    pub(crate) base: f64,
}

impl GbdtModel {
    /// A model from validated trees (children in range, features < `n_features`).
    pub(crate) fn new(trees: Vec<Tree>, n_features: usize, sigmoid: Option<f64>) -> Self {
        let engine = Engine::new(&trees, n_features);
        Self {
            trees,
            engine,
            n_features,
            sigmoid,
            base: 0.0,
        }
    }

    /// The same model starting every row's margin at `base`.
    pub(crate) fn with_base(mut self, base: f64) -> Self {
        self.base = base;
        self
    }

    /// How many trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// The raw score (sum of leaves) of one row.
    pub fn raw(&self, row: &[f64]) -> f64 {
        self.base + self.trees.iter().map(|t| t.leaf(row)).sum::<f64>()
    }

    #[inline]
    fn link(&self, raw: f64) -> f64 {
        match self.sigmoid {
            Some(scale) => 1.0 / (1.0 + (-scale * raw).exp()),
            None => raw,
        }
    }

    /// Raw scores of a row-major batch into `out`.
    pub fn raw_batch(&self, rows: &[f64], out: &mut [f64]) {
        let n = self.n_features.max(1);
        let count = (rows.len() / n).min(out.len());
        let (rows, out) = (&rows[..count * n], &mut out[..count]);
        out.iter_mut().for_each(|o| *o = self.base);
        self.engine.add(rows, n, out);
    }
}

impl Scorer for GbdtModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn score(&self, row: &[f64]) -> f64 {
        self.link(self.raw(row))
    }

    fn score_batch(&self, rows: &[f64], out: &mut [f64]) {
        self.raw_batch(rows, out);
        for o in out.iter_mut() {
            *o = self.link(*o);
        }
    }

    fn explain(&self, row: &[f64], names: &[&str]) -> Explanation {
        let mut parts = vec![0.0; self.n_features];
        let mut bias = self.base;
        for tree in &self.trees {
            bias += tree.expected();
            tree.attribute(row, &mut parts);
        }
        let mut contributions: Vec<Contribution> = parts
            .iter()
            .enumerate()
            .map(|(i, &c)| Contribution {
                feature: name(names, i),
                value: row.get(i).copied().unwrap_or(f64::NAN),
                contribution: c,
            })
            .collect();
        sort_contributions(&mut contributions);
        let raw = self.raw(row);
        Explanation {
            bias,
            raw,
            score: self.link(raw),
            contributions,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const LGBM: &str = include_str!("../tests/data/lgbm_model.txt");
    const XGB: &str = include_str!("../tests/data/xgb_model.json");
    const ROWS: &str = include_str!("../tests/data/rows.csv");
    /// The hand-written model of `tests/models.rs`: every missing-value mode.
    const MISSING_MODES: &str = "tree\nversion=v4\nnum_class=1\nmax_feature_idx=2\nobjective=regression\n\n\
Tree=0\nnum_leaves=6\nnum_cat=0\nsplit_feature=0 1 2 0 1\nthreshold=0.5 -0.25 0 -1 1e-40\n\
decision_type=0 6 10 8 4\nleft_child=1 3 -3 -1 -5\nright_child=2 4 -4 -2 -6\n\
leaf_value=1 2 3 4 5 6\nleaf_count=1 1 1 1 1 1\nis_linear=0\nshrinkage=1\n\n\
Tree=1\nnum_leaves=1\nnum_cat=0\nleaf_value=0.25\n\nend of trees\n";

    /// A small deterministic generator (no test-time randomness to chase).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    /// Rows made of the model's own thresholds, their neighbours, zeros, tiny values,
    /// infinities and NaN: every place where a decision can flip.
    fn hard_rows(model: &GbdtModel, count: usize) -> Vec<f64> {
        let n = model.n_features;
        let mut per_feature: Vec<Vec<f64>> = vec![
            vec![
                f64::NAN,
                0.0,
                -0.0,
                1e-36,
                -1e-36,
                1e-35,
                1e-34,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1.0,
                -1.0,
            ];
            n
        ];
        for tree in &model.trees {
            for node in &tree.nodes {
                let t = node.threshold;
                let values = &mut per_feature[node.feature as usize];
                values.extend([t, t.next_up(), t.next_down(), t as f32 as f64]);
            }
        }
        let mut rng = Lcg(7);
        (0..count * n)
            .map(|i| {
                let values = &per_feature[i % n];
                values[rng.next() as usize % values.len()]
            })
            .collect()
    }

    /// Every engine that can hold `model` gives exactly the single-row walk's sums.
    fn engines_agree(model: &GbdtModel, rows: &[f64]) -> usize {
        let n = model.n_features;
        let expected: Vec<f64> = rows.chunks_exact(n).map(|r| model.raw(r)).collect();
        let mut engines = vec![Engine::Walk(Forest::new(&model.trees))];
        engines.extend(Quick::new(&model.trees, n).map(Engine::Quick16));
        engines.extend(Quick::new(&model.trees, n).map(Engine::Quick32));
        engines.extend(Quick::new(&model.trees, n).map(Engine::Quick64));
        for (which, engine) in engines.iter().enumerate() {
            // Every batch length: full blocks and the padded remainder.
            for len in [1, 7, 63, 64, 65, 130, expected.len()] {
                let len = len.min(expected.len());
                let mut out = vec![model.base; len];
                engine.add(&rows[..len * n], n, &mut out);
                for (i, (o, e)) in out.iter().zip(&expected).enumerate() {
                    assert!(o == e, "engine {which}, row {i}: {o} vs {e}");
                }
            }
        }
        engines.len()
    }

    fn test_rows(n: usize) -> Vec<f64> {
        let rows: Vec<f64> = ROWS
            .lines()
            .flat_map(|l| {
                l.split(',')
                    .map(|v| v.parse().unwrap_or(f64::NAN))
                    .collect::<Vec<f64>>()
            })
            .collect();
        assert_eq!(rows.len() % n, 0);
        rows
    }

    #[test]
    fn every_engine_matches_the_walk_on_lightgbm() {
        let model = GbdtModel::from_lightgbm(LGBM).unwrap();
        assert!(matches!(model.engine, Engine::Quick16(_)));
        let mut rows = test_rows(model.n_features);
        rows.extend(hard_rows(&model, 300));
        assert_eq!(engines_agree(&model, &rows), 4);
    }

    #[test]
    fn every_engine_matches_the_walk_on_xgboost() {
        let model = GbdtModel::from_xgboost_json(XGB).unwrap();
        let mut rows = test_rows(model.n_features);
        rows.extend(hard_rows(&model, 300));
        assert!(engines_agree(&model, &rows) >= 2);
    }

    #[test]
    fn every_engine_matches_the_walk_on_every_missing_mode() {
        let model = GbdtModel::from_lightgbm(MISSING_MODES).unwrap();
        let rows = hard_rows(&model, 2000);
        assert_eq!(engines_agree(&model, &rows), 4);
    }

    /// A tree of `leaves` leaves: a left spine on features 0, 1, 2, … with thresholds
    /// 0, 1, 2, … (so deep and wide trees both get tested).
    fn spine(leaves: usize, flags: u8) -> Tree {
        let splits = leaves - 1;
        let nodes = (0..splits)
            .map(|i| Node {
                threshold: i as f64,
                feature: (i % 3) as u32,
                left: if i + 1 < splits {
                    i as i32 + 1
                } else {
                    !(i as i32 + 1)
                },
                right: !(i as i32),
                flags,
            })
            .collect();
        let values = (0..leaves).map(|i| i as f64 * 0.5 + 0.125).collect();
        Tree::new(nodes, values, &[])
    }

    #[test]
    fn wide_trees_pick_wider_words_or_the_walk() {
        for (leaves, want) in [
            (16, "Quick16"),
            (17, "Quick32"),
            (40, "Quick64"),
            (65, "Walk"),
        ] {
            let model = GbdtModel::new(vec![spine(leaves, DEFAULT_LEFT | MISSING_NAN)], 3, None);
            let name = format!("{:?}", model.engine);
            assert!(name.starts_with(want), "{leaves} leaves: {name}");
            let mut rng = Lcg(leaves as u64);
            let rows: Vec<f64> = (0..3 * 200)
                .map(|_| match rng.next() % 5 {
                    0 => f64::NAN,
                    _ => (rng.next() % (leaves as u64 + 2)) as f64 - 1.5,
                })
                .collect();
            engines_agree(&model, &rows);
        }
    }

    #[test]
    fn nan_thresholds_send_every_value_right() {
        for flags in [
            0,
            MISSING_NAN,
            MISSING_NAN | DEFAULT_LEFT,
            MISSING_ZERO | DEFAULT_LEFT,
        ] {
            let mut tree = spine(4, flags);
            tree.nodes[1].threshold = f64::NAN;
            let model = GbdtModel::new(vec![tree], 3, None);
            let rows = hard_rows(&model, 500);
            engines_agree(&model, &rows);
        }
    }
}
