//! Gradient-boosted decision trees, evaluated natively. Loaded from LightGBM text
//! models ([`crate::lightgbm`]); the layout is flat arrays, so a batch walks each tree over
//! every row while the tree is hot in cache.

use crate::scorer::{Contribution, Explanation, Scorer, name, sort_contributions};

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

/// An ensemble: `raw = Σ leaf values`, `score = sigmoid(scale · raw)` for binary models.
#[derive(Debug, Clone, PartialEq)]
pub struct GbdtModel {
    pub(crate) trees: Vec<Tree>,
    pub(crate) n_features: usize,
    /// `Some(scale)`: a binary classifier (LightGBM's `sigmoid:` parameter).
    pub(crate) sigmoid: Option<f64>,
}

impl GbdtModel {
    /// How many trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// The raw score (sum of leaves) of one row.
    pub fn raw(&self, row: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.leaf(row)).sum()
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
        out.iter_mut().for_each(|o| *o = 0.0);
        for tree in &self.trees {
            for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
                *o += tree.leaf(row);
            }
        }
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
        let mut bias = 0.0;
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
