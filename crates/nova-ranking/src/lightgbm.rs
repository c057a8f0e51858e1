//! Loads LightGBM text models (`booster.save_model("model.txt")`): numerical splits with
//! missing-value handling, binary (sigmoid) and regression objectives.

use std::collections::HashMap;

use nova_core::Error;

use crate::gbdt::{DEFAULT_LEFT, GbdtModel, MAX_FLAT, MISSING_NAN, MISSING_ZERO, Node, Tree};

fn bad(why: impl Into<String>) -> Error {
    Error::invalid("model", format!("LightGBM model: {}", why.into()))
}

fn list<T: std::str::FromStr>(fields: &HashMap<&str, &str>, key: &str) -> Result<Vec<T>, Error> {
    let Some(text) = fields.get(key) else {
        return Err(bad(format!("tree without {key}")));
    };
    text.split_whitespace()
        .map(|v| {
            v.parse()
                .map_err(|_| bad(format!("bad number in {key}: {v}")))
        })
        .collect()
}

impl GbdtModel {
    /// Parses a LightGBM text model. Categorical splits, linear trees and multiclass
    /// models are refused with an error saying so.
    pub fn from_lightgbm(text: &str) -> Result<Self, Error> {
        let mut blocks = text.split("\nTree=");
        let header: HashMap<&str, &str> = blocks
            .next()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .collect();
        let n_features = header
            .get("max_feature_idx")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .ok_or_else(|| bad("missing max_feature_idx"))?
            + 1;
        if n_features > MAX_FLAT {
            return Err(bad("more than 65,535 features"));
        }
        if header.get("num_class").is_some_and(|v| v.trim() != "1") {
            return Err(bad("multiclass models are not supported"));
        }
        let objective = header.get("objective").copied().unwrap_or("regression");
        let sigmoid = if objective.starts_with("binary") || objective.starts_with("cross_entropy") {
            let scale = objective
                .split_whitespace()
                .find_map(|p| p.strip_prefix("sigmoid:"))
                .map_or(Ok(1.0), |s| {
                    s.parse::<f64>().map_err(|_| bad("bad sigmoid"))
                })?;
            Some(scale)
        } else {
            None
        };
        let mut trees = Vec::new();
        for block in blocks {
            let block = block.split("end of trees").next().unwrap_or_default();
            let fields: HashMap<&str, &str> =
                block.lines().filter_map(|l| l.split_once('=')).collect();
            trees.push(parse_tree(&fields, n_features)?);
        }
        if trees.is_empty() {
            return Err(bad("no trees"));
        }
        Ok(Self::new(trees, n_features, sigmoid))
    }
}

/// Whether the child links (in range) form one tree rooted at split 0: every split and
/// every leaf reached exactly once. A cycle would otherwise recurse without end when the
/// tree is walked.
fn is_tree(left: &[i32], right: &[i32], n_leaves: usize) -> bool {
    let mut splits_seen = vec![false; left.len()];
    let mut leaves_seen = vec![false; n_leaves];
    let mut stack = vec![0_i32];
    while let Some(c) = stack.pop() {
        let seen = if c < 0 {
            leaves_seen.get_mut(!c as usize)
        } else {
            splits_seen.get_mut(c as usize)
        };
        match seen {
            Some(seen) if !*seen => *seen = true,
            _ => return false,
        }
        if c >= 0 {
            stack.push(left[c as usize]);
            stack.push(right[c as usize]);
        }
    }
    splits_seen.iter().chain(&leaves_seen).all(|s| *s)
}

fn parse_tree(fields: &HashMap<&str, &str>, n_features: usize) -> Result<Tree, Error> {
    if fields.get("num_cat").is_some_and(|v| v.trim() != "0") {
        return Err(bad("categorical splits are not supported"));
    }
    if fields.get("is_linear").is_some_and(|v| v.trim() != "0") {
        return Err(bad("linear trees are not supported"));
    }
    let leaves: Vec<f64> = list(fields, "leaf_value")?;
    let counts: Vec<f64> = list(fields, "leaf_count").unwrap_or_default();
    if leaves.len() <= 1 {
        return Ok(Tree::new(Vec::new(), leaves, &counts));
    }
    let feature: Vec<u32> = list(fields, "split_feature")?;
    let threshold: Vec<f64> = list(fields, "threshold")?;
    let decision: Vec<u8> = list(fields, "decision_type")?;
    let left: Vec<i32> = list(fields, "left_child")?;
    let right: Vec<i32> = list(fields, "right_child")?;
    if 2 * leaves.len() > MAX_FLAT {
        return Err(bad("a tree with more than 32,767 leaves"));
    }
    let n = leaves.len() - 1;
    if [
        threshold.len(),
        decision.len(),
        left.len(),
        right.len(),
        feature.len(),
    ]
    .iter()
    .any(|&len| len != n)
    {
        return Err(bad("inconsistent tree arrays"));
    }
    let child_ok = |c: i32| (c >= 0 && (c as usize) < n) || (c < 0 && (!c as usize) < leaves.len());
    if left.iter().chain(&right).all(|&c| child_ok(c)) && !is_tree(&left, &right, leaves.len()) {
        return Err(bad(
            "child links do not form a tree (a cycle or a shared node)",
        ));
    }
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        if feature[i] as usize >= n_features || !child_ok(left[i]) || !child_ok(right[i]) {
            return Err(bad("split refers outside the model"));
        }
        let dt = decision[i];
        if dt & 1 != 0 {
            return Err(bad("categorical splits are not supported"));
        }
        let mut flags = 0;
        if dt & 2 != 0 {
            flags |= DEFAULT_LEFT;
        }
        match (dt >> 2) & 3 {
            1 => flags |= MISSING_ZERO,
            2 => flags |= MISSING_NAN,
            _ => {}
        }
        nodes.push(Node {
            threshold: threshold[i],
            feature: feature[i],
            left: left[i],
            right: right[i],
            flags,
        });
    }
    Ok(Tree::new(nodes, leaves, &counts))
}
