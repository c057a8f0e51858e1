//! # nova-ranking
//!
//! Orders a viewer's candidate posts. Pure computation in the hot path; the feature store
//! is the only I/O, once per request.
//!
//! - **Features** ([`features`]): a candidate (post × viewer) becomes 16 named values —
//!   recency, author affinity, engagement velocity (from nova-trending), post type, author
//!   followers, relationship (follows, mutual), "show less" feedback, language match, ...
//!   Extraction is a separate, testable step.
//! - **Models** behind one [`Scorer`] trait: [`LinearModel`] (linear or logistic, weights
//!   by feature name from TOML) and [`GbdtModel`], gradient-boosted trees loaded from
//!   LightGBM text models (`booster.save_model`) or XGBoost JSON models
//!   (`booster.save_model("model.json")`) — an ML team trains in Python and Nova serves
//!   the same predictions (parity with LightGBM 4.7 and XGBoost 3.2 within 1e-6 is
//!   tested).
//! - **Re-ranking** ([`rerank`]): per-user weights ("more from people I follow", "fewer
//!   reposts"), already-seen suppression, at most N posts in a row by one author, a cap
//!   on the out-of-network share.
//! - **`explain`**: per-feature contributions (exact for linear models, Saabas path
//!   attribution for trees) for debugging and "why am I seeing this".
//! - **Feature store** ([`store`]): per-(viewer, author) interaction signals in SQL
//!   (PostgreSQL, SQLite), or ClickHouse with the `clickhouse` feature.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use chrono::{Duration, Utc};
//! use nova_core::{PostId, UserId};
//! use nova_ranking::{
//!     AuthorSignals, Candidate, LinearModel, PostKind, Ranker, RerankConfig, Source, Viewer,
//!     features::FEATURES,
//! };
//!
//! let model = LinearModel::from_toml(
//!     "logistic = true\n[weights]\nrecency = 2.0\nauthor_affinity = 1.0\nnegative_feedback = -4.0",
//!     &FEATURES,
//! )?;
//! let ranker = Ranker::new(Arc::new(model), RerankConfig::default())?;
//! let now = Utc::now();
//! let post = |author: UserId, hours: i64| Candidate {
//!     post_id: PostId::new(),
//!     author_id: author,
//!     created_at: now - Duration::hours(hours),
//!     kind: PostKind::default(),
//!     lang: None,
//!     author_followers: 10,
//!     likes: 0,
//!     replies: 0,
//!     velocity: 0.0,
//!     source: Source::InNetwork,
//! };
//! let (friend, stranger) = (UserId::new(), UserId::new());
//! let candidates = [post(stranger, 0), post(friend, 2)];
//! // The viewer interacts with `friend` a lot.
//! let signals = HashMap::from([(friend, AuthorSignals { interactions: 30.0, negative: 0.0 })]);
//! let viewer = Viewer::default();
//! let feed = ranker.rank(&viewer, &candidates, &signals, now, 10);
//! assert_eq!(feed[0].author_id, friend);
//!
//! let why = ranker.explain(&viewer, &candidates[1], &signals[&friend], now);
//! assert_eq!(why.contributions[0].feature, "author_affinity");
//! # Ok::<(), nova_core::Error>(())
//! ```

pub mod api;
pub mod features;
pub mod gbdt;
pub mod grpc;
pub mod lightgbm;
pub mod linear;
pub mod model;
pub mod ranker;
pub mod rerank;
pub mod scorer;
pub mod service;
pub mod setup;
pub mod store;
pub mod xgboost;

pub use api::RankingApi;
pub use gbdt::GbdtModel;
pub use linear::{LinearConfig, LinearModel};
pub use model::{AuthorSignals, Candidate, PostKind, Preferences, RankedItem, Source, Viewer};
pub use ranker::Ranker;
pub use rerank::RerankConfig;
pub use scorer::{Contribution, Explanation, Link, Scorer};
pub use service::RankingService;
pub use store::{FeatureStore, Interaction};
