//! PostgreSQL feature store.

use std::collections::HashMap;

use async_trait::async_trait;
use nova_core::{Error, Timestamp, UserId};
use nova_db::DbResultExt;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{FeatureStore, Interaction, deltas};
use crate::model::AuthorSignals;

/// Author signals in `ranking_author_signals` on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresFeatureStore {
    pool: PgPool,
}

impl PostgresFeatureStore {
    /// Over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl FeatureStore for PostgresFeatureStore {
    async fn record(
        &self,
        viewer: UserId,
        author: UserId,
        interaction: Interaction,
        at: Timestamp,
    ) -> Result<(), Error> {
        let (pos, neg) = deltas(interaction);
        sqlx::query(
            "INSERT INTO ranking_author_signals (viewer_id, author_id, interactions, negative, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (viewer_id, author_id) DO UPDATE SET
               interactions = ranking_author_signals.interactions + $3,
               negative = ranking_author_signals.negative + $4,
               updated_at = GREATEST(ranking_author_signals.updated_at, $5)",
        )
        .bind(viewer.as_uuid())
        .bind(author.as_uuid())
        .bind(pos)
        .bind(neg)
        .bind(at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn author_signals(
        &self,
        viewer: UserId,
        authors: &[UserId],
    ) -> Result<HashMap<UserId, AuthorSignals>, Error> {
        let ids: Vec<Uuid> = authors.iter().map(|a| a.as_uuid()).collect();
        let rows = sqlx::query(
            "SELECT author_id, interactions, negative FROM ranking_author_signals
             WHERE viewer_id = $1 AND author_id = ANY($2)",
        )
        .bind(viewer.as_uuid())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    UserId::from(r.get::<Uuid, _>("author_id")),
                    AuthorSignals {
                        interactions: r.get("interactions"),
                        negative: r.get("negative"),
                    },
                )
            })
            .collect())
    }
}
