//! The persistence port for snapshots and review decisions, with one SQL adapter for
//! PostgreSQL and SQLite.

mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, Timestamp};
use nova_db::Db;

pub use sql::SqlTrendingStore;

use crate::model::{EntityKey, ReviewState};
use crate::snapshot::Snapshot;

/// Where snapshots and reviews live.
#[async_trait]
pub trait TrendingStore: Send + Sync {
    /// Replaces the stored snapshot with `snapshot` (one transaction) and upserts its
    /// review decisions.
    async fn save(&self, snapshot: &Snapshot) -> Result<(), Error>;

    /// The stored snapshot (empty if none), with every stored review decision.
    async fn load(&self) -> Result<Snapshot, Error>;

    /// Records a moderator's decision (and optionally a display label) at once.
    async fn set_review(
        &self,
        entity: EntityKey,
        state: ReviewState,
        label: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error>;

    /// The display label of an entity, if one was recorded.
    async fn label(&self, entity: EntityKey) -> Result<Option<String>, Error>;
}

/// The store for `db`'s engine.
pub fn store(db: &Db) -> Arc<dyn TrendingStore> {
    Arc::new(SqlTrendingStore::new(db.clone()))
}

/// One `trending_scores` row as stored.
pub(crate) struct ScoreRow {
    pub(crate) scope: String,
    pub(crate) entity_kind: String,
    pub(crate) entity_id: String,
    pub(crate) log_scores: String,
    pub(crate) accounts: Vec<u8>,
    pub(crate) trending: bool,
    pub(crate) qualified: bool,
    pub(crate) cooldown_until: Option<i64>,
}

pub(crate) fn encode_scores(scores: &[(String, f64)]) -> Result<String, Error> {
    let map: serde_json::Map<String, serde_json::Value> = scores
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
        .collect();
    serde_json::to_string(&map).map_err(Error::internal)
}

pub(crate) fn decode_row(row: ScoreRow) -> Result<crate::snapshot::SnapshotRow, Error> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.log_scores).map_err(Error::internal)?;
    Ok(crate::snapshot::SnapshotRow {
        scope: crate::model::Scope::parse(&row.scope)?,
        entity: EntityKey::parse(&row.entity_kind, &row.entity_id)?,
        log_scores: map
            .into_iter()
            .filter_map(|(k, v)| v.as_f64().map(|v| (k, v)))
            .collect(),
        accounts: row.accounts,
        trending: row.trending,
        qualified: row.qualified,
        cooldown_until: row.cooldown_until,
    })
}
