//! The feature-store port: aggregated viewer → author interactions. SQL by default
//! (PostgreSQL, SQLite); ClickHouse for large interaction logs (feature `clickhouse`).

#[cfg(feature = "clickhouse")]
mod clickhouse;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, Timestamp, UserId};
use nova_db::Db;

#[cfg(feature = "clickhouse")]
pub use self::clickhouse::ClickHouseFeatureStore;
pub use postgres::PostgresFeatureStore;
pub use sqlite::SqliteFeatureStore;

use crate::model::AuthorSignals;

/// One interaction of a viewer with an author's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// A like, reply, repost, bookmark, profile visit...: counts toward affinity.
    Positive,
    /// "Show less from this author".
    ShowLess,
}

/// Where ranking reads its per-(viewer, author) features.
#[async_trait]
pub trait FeatureStore: Send + Sync {
    /// Records one interaction.
    async fn record(
        &self,
        viewer: UserId,
        author: UserId,
        interaction: Interaction,
        at: Timestamp,
    ) -> Result<(), Error>;

    /// The signals of `viewer` for each of `authors` that has any.
    async fn author_signals(
        &self,
        viewer: UserId,
        authors: &[UserId],
    ) -> Result<HashMap<UserId, AuthorSignals>, Error>;
}

/// The SQL store for `db`'s engine.
pub fn store(db: &Db) -> Arc<dyn FeatureStore> {
    match db {
        Db::Postgres(pool) => Arc::new(PostgresFeatureStore::new(pool.clone())),
        Db::Sqlite(sqlite) => Arc::new(SqliteFeatureStore::new(sqlite.clone())),
    }
}

/// `(positive, negative)` increments of an interaction.
pub(crate) fn deltas(interaction: Interaction) -> (f64, f64) {
    match interaction {
        Interaction::Positive => (1.0, 0.0),
        Interaction::ShowLess => (0.0, 1.0),
    }
}
