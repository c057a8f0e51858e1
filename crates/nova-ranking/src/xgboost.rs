//! Loads XGBoost JSON models (`booster.save_model("model.json")`, the documented and
//! versioned format, read here for XGBoost 1.x–3.x) into the same tree evaluator as
//! LightGBM models.
//!
//! XGBoost's semantics, reproduced exactly:
//! - a split sends a row left when `(x as f32) < split_condition`. Nova compares `f64`
//!   values with `<=`, so each threshold becomes the largest `f64` that rounds (to
//!   nearest, ties to even) to an `f32` below the split condition: the same decision for
//!   every `f64` input, not only for `f32`-representable ones;
//! - a missing value (`NaN`) follows the node's `default_left`; zero is a value;
//! - `learner_model_param.base_score` is in output space (a probability for
//!   `binary:logistic`; stored as `"5E-1"` or, from XGBoost 3, `"[5E-1]"`); the margin
//!   starts at its logit (`ln(p / (1 − p))`) for logistic objectives, at the value itself
//!   otherwise;
//! - leaf values sit in `split_conditions` of the nodes whose `left_children` is `-1`.
//!
//! Categorical splits, DART boosters, multi-class and multi-target models are refused
//! with an error saying so.

use nova_core::Error;
use serde::Deserialize;

use crate::gbdt::{DEFAULT_LEFT, GbdtModel, MAX_FLAT, MISSING_NAN, Node, Tree};

fn bad(why: impl Into<String>) -> Error {
    Error::invalid("model", format!("XGBoost model: {}", why.into()))
}

#[derive(Deserialize)]
struct Document {
    learner: Learner,
}

#[derive(Deserialize)]
struct Learner {
    learner_model_param: ModelParam,
    objective: Objective,
    gradient_booster: Booster,
}

#[derive(Deserialize)]
struct ModelParam {
    base_score: String,
    #[serde(default)]
    num_class: Option<String>,
    num_feature: String,
    #[serde(default)]
    num_target: Option<String>,
}

#[derive(Deserialize)]
struct Objective {
    name: String,
}

#[derive(Deserialize)]
struct Booster {
    name: String,
    #[serde(default)]
    model: Option<GbTree>,
}

#[derive(Deserialize)]
struct GbTree {
    trees: Vec<JsonTree>,
}

#[derive(Deserialize)]
struct JsonTree {
    left_children: Vec<i64>,
    right_children: Vec<i64>,
    split_indices: Vec<i64>,
    split_conditions: Vec<f32>,
    default_left: Vec<Flag>,
    #[serde(default)]
    split_type: Vec<i64>,
    #[serde(default)]
    sum_hessian: Vec<f64>,
}

/// `default_left` is `0`/`1` in XGBoost ≥ 1.6 and `true`/`false` before.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Flag {
    Int(i64),
    Bool(bool),
}

impl Flag {
    fn is_set(self) -> bool {
        match self {
            Self::Int(v) => v != 0,
            Self::Bool(b) => b,
        }
    }
}

fn number(text: &str, what: &str) -> Result<f64, Error> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim()
        .parse::<f64>()
        .map_err(|_| bad(format!("bad {what}: {text:?}")))
}

/// The `f64` threshold `t'` with `x <= t'` ⇔ `(x as f32) < t` for every `f64` `x`.
pub(crate) fn f32_less_than(t: f32) -> f64 {
    if t.is_nan() {
        return f64::NAN; // nothing compares less than NaN: every value goes right
    }
    if t == f32::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    // `p` is the largest f32 below `t`; `m` their midpoint (exact in f64). Values below
    // `m` round to `p` or less (left), values above it to `t` or more (right), and `m`
    // itself rounds to whichever has an even mantissa.
    let (p, m) = if t == f32::INFINITY {
        (f32::MAX, f32::MAX as f64 + 2f64.powi(103))
    } else {
        let p = t.next_down();
        (p, (p as f64 + t as f64) / 2.0)
    };
    if p.to_bits() & 1 == 0 {
        m
    } else {
        m.next_down()
    }
}

impl GbdtModel {
    /// Parses an XGBoost JSON model (`save_model("….json")`). Objectives: the logistic
    /// ones (`binary:logistic`, `reg:logistic`: score = sigmoid), `binary:logitraw` and
    /// the identity-link regressions (`reg:squarederror`, `reg:linear`,
    /// `reg:absoluteerror`, `reg:pseudohubererror`, `reg:quantileerror`).
    pub fn from_xgboost_json(text: &str) -> Result<Self, Error> {
        let doc: Document =
            serde_json::from_str(text).map_err(|e| bad(format!("not XGBoost JSON: {e}")))?;
        let learner = doc.learner;
        let param = &learner.learner_model_param;
        if param
            .num_class
            .as_deref()
            .is_some_and(|c| !matches!(c.trim(), "0" | "1"))
        {
            return Err(bad("multi-class models are not supported"));
        }
        if param
            .num_target
            .as_deref()
            .is_some_and(|c| !matches!(c.trim(), "0" | "1"))
        {
            return Err(bad("multi-target models are not supported"));
        }
        let n_features = number(&param.num_feature, "num_feature")? as usize;
        if n_features == 0 || n_features > MAX_FLAT {
            return Err(bad("num_feature must be between 1 and 65,535"));
        }
        let base_score = number(&param.base_score, "base_score")?;
        let (base, sigmoid) = match learner.objective.name.as_str() {
            "binary:logistic" | "reg:logistic" => {
                if !(base_score > 0.0 && base_score < 1.0) {
                    return Err(bad("a logistic base_score must be in (0, 1)"));
                }
                ((base_score / (1.0 - base_score)).ln(), Some(1.0))
            }
            "binary:logitraw"
            | "reg:squarederror"
            | "reg:linear"
            | "reg:absoluteerror"
            | "reg:pseudohubererror"
            | "reg:quantileerror" => (base_score, None),
            other => return Err(bad(format!("objective {other} is not supported"))),
        };
        if learner.gradient_booster.name != "gbtree" {
            return Err(bad(format!(
                "booster {} is not supported (gbtree only)",
                learner.gradient_booster.name
            )));
        }
        let trees = learner
            .gradient_booster
            .model
            .ok_or_else(|| bad("gbtree without a model"))?
            .trees
            .iter()
            .map(|t| convert(t, n_features))
            .collect::<Result<Vec<_>, _>>()?;
        if trees.is_empty() {
            return Err(bad("no trees"));
        }
        Ok(Self::new(trees, n_features, sigmoid).with_base(base))
    }
}

/// One XGBoost tree (node 0 the root; leaves have `left_children == -1`) as splits and
/// leaves.
fn convert(t: &JsonTree, n_features: usize) -> Result<Tree, Error> {
    let n = t.left_children.len();
    if n == 0 {
        return Err(bad("an empty tree"));
    }
    if [
        t.right_children.len(),
        t.split_indices.len(),
        t.split_conditions.len(),
        t.default_left.len(),
    ]
    .iter()
    .any(|&len| len != n)
        || !(t.split_type.is_empty() || t.split_type.len() == n)
    {
        return Err(bad("inconsistent tree arrays"));
    }
    if n > MAX_FLAT {
        return Err(bad("a tree with more than 65,535 nodes"));
    }
    if t.split_type.iter().any(|&s| s != 0) {
        return Err(bad("categorical splits are not supported"));
    }
    // Where each XGBoost node goes: a split index (>= 0) or a leaf (`!leaf`).
    let mut slot = vec![0i32; n];
    let (mut splits, mut leaves) = (0i32, 0i32);
    for (i, &left) in t.left_children.iter().enumerate() {
        if left == -1 {
            slot[i] = !leaves;
            leaves += 1;
        } else {
            slot[i] = splits;
            splits += 1;
        }
    }
    let child = |c: i64, parent: usize| -> Result<i32, Error> {
        // Children come after their parent, so a walk always ends at a leaf.
        usize::try_from(c)
            .ok()
            .filter(|&c| c < n && c > parent)
            .map(|c| slot[c])
            .ok_or_else(|| bad("a child refers outside the tree"))
    };
    if slot[0] < 0 {
        let value = t.split_conditions[0] as f64;
        return Ok(Tree::new(Vec::new(), vec![value], &[1.0]));
    }
    let mut nodes = Vec::with_capacity(splits as usize);
    let mut values = Vec::with_capacity(leaves as usize);
    let mut counts = Vec::with_capacity(leaves as usize);
    for (i, &at) in slot.iter().enumerate() {
        if at < 0 {
            values.push(t.split_conditions[i] as f64);
            counts.push(t.sum_hessian.get(i).copied().unwrap_or(1.0));
            continue;
        }
        let feature = usize::try_from(t.split_indices[i])
            .ok()
            .filter(|&f| f < n_features)
            .ok_or_else(|| bad("a split on a feature outside the model"))?;
        let mut flags = MISSING_NAN;
        if t.default_left[i].is_set() {
            flags |= DEFAULT_LEFT;
        }
        nodes.push(Node {
            threshold: f32_less_than(t.split_conditions[i]),
            feature: feature as u32,
            left: child(t.left_children[i], i)?,
            right: child(t.right_children[i], i)?,
            flags,
        });
    }
    Ok(Tree::new(nodes, values, &counts))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::f32_less_than;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_f64_threshold_decides_like_xgboost_in_f32(t in any::<f32>(), x in any::<f64>(), near in -4i64..4) {
            prop_assume!(t.is_finite());
            let th = f32_less_than(t);
            // Values right around the threshold, where rounding decides.
            let x_near = f64::from_bits((th.to_bits() as i64 + near) as u64);
            for x in [x, x_near, t as f64, th] {
                prop_assert_eq!(x <= th, (x as f32) < t, "t={} x={}", t, x);
            }
        }
    }

    #[test]
    fn infinite_and_zero_thresholds() {
        for (t, x) in [
            (0.0f32, -1e-50f64),
            (0.0, -1e-45),
            (f32::INFINITY, 3.5e38),
            (f32::INFINITY, f64::MAX),
            (1.0, 0.999_999_99),
        ] {
            assert_eq!(x <= f32_less_than(t), (x as f32) < t, "t={t} x={x}");
        }
    }
}
