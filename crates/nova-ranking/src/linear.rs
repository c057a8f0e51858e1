//! Linear and logistic models with weights from configuration.

use std::collections::BTreeMap;

use nova_core::Error;
use serde::Deserialize;

use crate::scorer::{Contribution, Explanation, Link, Scorer, name, sort_contributions};

/// `link(bias + Σ wᵢ·xᵢ)`. Missing values (`NaN`) contribute nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    weights: Vec<f64>,
    bias: f64,
    link: Link,
}

/// A linear model as configuration: weights by feature name (see
/// [`crate::features::FEATURES`]); features not named weigh 0.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LinearConfig {
    /// The intercept.
    #[serde(default)]
    pub bias: f64,
    /// `true`: logistic (scores are probabilities).
    #[serde(default)]
    pub logistic: bool,
    /// Weight per feature name.
    pub weights: BTreeMap<String, f64>,
}

impl LinearModel {
    /// A model over `weights.len()` features.
    pub fn new(weights: Vec<f64>, bias: f64, link: Link) -> Self {
        Self {
            weights,
            bias,
            link,
        }
    }

    /// Builds a model for the features `names` from configuration; an unknown or
    /// non-finite weight is an error naming it.
    pub fn from_config(config: &LinearConfig, names: &[&str]) -> Result<Self, Error> {
        let mut weights = vec![0.0; names.len()];
        for (feature, &w) in &config.weights {
            let i = names
                .iter()
                .position(|n| n == feature)
                .ok_or_else(|| Error::invalid("weights", format!("unknown feature {feature:?}")))?;
            if !w.is_finite() {
                return Err(Error::invalid(
                    "weights",
                    format!("{feature} is not finite"),
                ));
            }
            weights[i] = w;
        }
        let link = if config.logistic {
            Link::Logistic
        } else {
            Link::Identity
        };
        Ok(Self::new(weights, config.bias, link))
    }

    /// Parses [`LinearConfig`] from TOML.
    pub fn from_toml(toml_text: &str, names: &[&str]) -> Result<Self, Error> {
        let config: LinearConfig = toml::from_str(toml_text)
            .map_err(|e| Error::invalid("model", format!("bad linear model: {e}")))?;
        Self::from_config(&config, names)
    }

    #[inline]
    fn raw(&self, row: &[f64]) -> f64 {
        let mut acc = self.bias;
        for (w, x) in self.weights.iter().zip(row) {
            // Missing values count as 0 (`NaN * w` would poison the sum).
            if !x.is_nan() {
                acc += w * x;
            }
        }
        acc
    }
}

impl Scorer for LinearModel {
    fn n_features(&self) -> usize {
        self.weights.len()
    }

    fn score(&self, row: &[f64]) -> f64 {
        self.link.apply(self.raw(row))
    }

    fn score_batch(&self, rows: &[f64], out: &mut [f64]) {
        let n = self.weights.len().max(1);
        for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
            // Four accumulators let the CPU overlap the multiply-adds.
            let mut acc = [0.0f64; 4];
            let (w4, wr) = self.weights.as_chunks::<4>();
            let (x4, xr) = row.as_chunks::<4>();
            for (w, x) in w4.iter().zip(x4) {
                for j in 0..4 {
                    let v = if x[j].is_nan() { 0.0 } else { x[j] };
                    acc[j] += w[j] * v;
                }
            }
            let mut raw = self.bias + (acc[0] + acc[1]) + (acc[2] + acc[3]);
            for (w, x) in wr.iter().zip(xr) {
                if !x.is_nan() {
                    raw += w * x;
                }
            }
            *o = self.link.apply(raw);
        }
    }

    fn explain(&self, row: &[f64], names: &[&str]) -> Explanation {
        let mut contributions: Vec<Contribution> = self
            .weights
            .iter()
            .zip(row)
            .enumerate()
            .map(|(i, (w, x))| Contribution {
                feature: name(names, i),
                value: *x,
                contribution: if x.is_nan() { 0.0 } else { w * x },
            })
            .collect();
        sort_contributions(&mut contributions);
        let raw = self.raw(row);
        Explanation {
            bias: self.bias,
            raw,
            score: self.link.apply(raw),
            contributions,
        }
    }
}
