//! Ranking in a process, from configuration: the model named by `RANKING_MODEL_PATH`
//! (a LightGBM `.txt`, an XGBoost `.json` or a linear `.toml` over
//! [`FEATURES`](crate::features::FEATURES)), else [`DEFAULT_MODEL`], the default
//! re-ranking rules and the SQL feature store. Shared by `ranking-service` and the `nova`
//! all-in-one.

use std::path::Path;
use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_core::{Error, SystemClock};
use nova_db::Db;

use crate::api::RankingApi;
use crate::features::FEATURES;
use crate::gbdt::GbdtModel;
use crate::linear::LinearModel;
use crate::ranker::Ranker;
use crate::rerank::RerankConfig;
use crate::scorer::Scorer;
use crate::service::RankingService;

/// The variable naming the model file.
pub const MODEL_PATH_VAR: &str = "RANKING_MODEL_PATH";

/// The model used without a file: a logistic model favouring fresh posts, authors the
/// viewer engages with, fast-moving posts and people they follow, and avoiding authors
/// they asked to see less of.
pub const DEFAULT_MODEL: &str = r#"
logistic = true
bias = -1.0
[weights]
recency = 2.0
author_affinity = 1.2
velocity = 0.8
follows_author = 0.7
mutual = 0.3
lang_match = 0.5
negative_feedback = -3.0
"#;

/// Loads a model file by extension: `.txt` LightGBM, `.json` XGBoost, `.toml` linear.
pub fn load_model(path: &Path) -> Result<Arc<dyn Scorer>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("model", format!("cannot read {}: {e}", path.display())))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    Ok(match extension {
        "txt" => Arc::new(GbdtModel::from_lightgbm(&text)?),
        "json" => Arc::new(GbdtModel::from_xgboost_json(&text)?),
        "toml" => Arc::new(LinearModel::from_toml(&text, &FEATURES)?),
        _ => {
            return Err(Error::invalid(
                "model",
                "expected a .txt (LightGBM), .json (XGBoost) or .toml (linear) file",
            ));
        }
    })
}

/// The ranker of `RANKING_MODEL_PATH` (or the default model); the error is one line
/// naming the variable.
pub fn ranker(config: &NovaConfig) -> Result<Ranker, String> {
    let scorer: Arc<dyn Scorer> = match config.source.raw(MODEL_PATH_VAR) {
        Some((path, _)) => {
            load_model(Path::new(path)).map_err(|e| format!("{MODEL_PATH_VAR}={path}: {e}"))?
        }
        None => Arc::new(
            LinearModel::from_toml(DEFAULT_MODEL, &FEATURES)
                .map_err(|e| format!("the default ranking model: {e}"))?,
        ),
    };
    Ranker::new(scorer, RerankConfig::default()).map_err(|e| format!("{MODEL_PATH_VAR}: {e}"))
}

/// Ranking with `ranker` on `db`'s feature store.
pub fn service(ranker: Ranker, db: &Db) -> Arc<dyn RankingApi> {
    Arc::new(RankingService::new(
        ranker,
        crate::store::store(db),
        SystemClock::shared(),
    ))
}

/// Ranking on `db`'s feature store with the configured model (the all-in-one's entry).
pub fn embedded(config: &NovaConfig, db: &Db) -> Result<Arc<dyn RankingApi>, String> {
    Ok(service(ranker(config)?, db))
}
