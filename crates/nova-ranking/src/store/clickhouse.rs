//! ClickHouse feature store: every interaction is a row of an append-only MergeTree
//! table; signals are aggregated at read time (`sum … GROUP BY author`), which is what
//! ClickHouse is for at analytics scale.
//!
//! Works with old servers (Debian's 18.16) because the client skips schema validation
//! (`with_validation(false)`: plain `RowBinary`).

use std::collections::HashMap;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use nova_core::{Error, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::{FeatureStore, Interaction, deltas};
use crate::model::AuthorSignals;

const TABLE: &str = "ranking_interactions";

#[derive(Debug, Row, Serialize)]
struct InteractionRow<'a> {
    viewer: &'a str,
    author: &'a str,
    positive: f64,
    negative: f64,
    at_micros: i64,
}

#[derive(Debug, Row, Deserialize)]
struct SignalRow {
    author: String,
    positive: f64,
    negative: f64,
}

fn unavailable(e: clickhouse::error::Error) -> Error {
    Error::unavailable(e)
}

/// Author signals in ClickHouse.
#[derive(Clone)]
pub struct ClickHouseFeatureStore {
    client: Client,
}

impl std::fmt::Debug for ClickHouseFeatureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseFeatureStore")
            .finish_non_exhaustive()
    }
}

impl ClickHouseFeatureStore {
    /// Connects to the HTTP interface at `url` (e.g. `http://127.0.0.1:8123`), database
    /// `database`, and creates the table if it is missing.
    pub async fn connect(url: &str, database: &str) -> Result<Self, Error> {
        let client = Client::default()
            .with_url(url)
            .with_database(database)
            .with_validation(false);
        let store = Self { client };
        store.ensure_schema().await?;
        Ok(store)
    }

    /// Creates `ranking_interactions` if it does not exist.
    pub async fn ensure_schema(&self) -> Result<(), Error> {
        self.client
            .query(
                "CREATE TABLE IF NOT EXISTS ranking_interactions (
                    viewer String, author String,
                    positive Float64, negative Float64,
                    at_micros Int64
                ) ENGINE = MergeTree ORDER BY (viewer, author, at_micros)",
            )
            .execute()
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl FeatureStore for ClickHouseFeatureStore {
    async fn record(
        &self,
        viewer: UserId,
        author: UserId,
        interaction: Interaction,
        at: Timestamp,
    ) -> Result<(), Error> {
        let (positive, negative) = deltas(interaction);
        let (viewer, author) = (viewer.to_string(), author.to_string());
        let mut insert = self
            .client
            .insert::<InteractionRow<'_>>(TABLE)
            .await
            .map_err(unavailable)?;
        insert
            .write(&InteractionRow {
                viewer: &viewer,
                author: &author,
                positive,
                negative,
                at_micros: at.timestamp_micros(),
            })
            .await
            .map_err(unavailable)?;
        insert.end().await.map_err(unavailable)
    }

    async fn author_signals(
        &self,
        viewer: UserId,
        authors: &[UserId],
    ) -> Result<HashMap<UserId, AuthorSignals>, Error> {
        if authors.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = authors.iter().map(ToString::to_string).collect();
        let rows = self
            .client
            .query(
                "SELECT author, sum(positive) AS positive, sum(negative) AS negative
                 FROM ranking_interactions
                 WHERE viewer = ? AND has(?, author)
                 GROUP BY author",
            )
            .bind(viewer.to_string())
            .bind(&ids)
            .fetch_all::<SignalRow>()
            .await
            .map_err(unavailable)?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    UserId::parse_field(&r.author, "author")?,
                    AuthorSignals {
                        interactions: r.positive,
                        negative: r.negative,
                    },
                ))
            })
            .collect()
    }
}
