//! SQLite feature store.

use std::collections::HashMap;

use async_trait::async_trait;
use nova_core::{Error, Timestamp, UserId};
use nova_db::{DbResultExt, SqliteDb};
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use super::{FeatureStore, Interaction, deltas};
use crate::model::AuthorSignals;

/// Author signals in `ranking_author_signals` on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteFeatureStore {
    db: SqliteDb,
}

impl SqliteFeatureStore {
    /// Over `db`.
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

#[async_trait]
impl FeatureStore for SqliteFeatureStore {
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
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (viewer_id, author_id) DO UPDATE SET
               interactions = interactions + ?3,
               negative = negative + ?4,
               updated_at = MAX(updated_at, ?5)",
        )
        .bind(viewer.as_uuid())
        .bind(author.as_uuid())
        .bind(pos)
        .bind(neg)
        .bind(at)
        .execute(&self.db.writer)
        .await
        .db()?;
        Ok(())
    }

    async fn author_signals(
        &self,
        viewer: UserId,
        authors: &[UserId],
    ) -> Result<HashMap<UserId, AuthorSignals>, Error> {
        let mut out = HashMap::new();
        // Two bound values besides the ids: stay well under SQLite's variable limit.
        for chunk in authors.chunks(10_000) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT author_id, interactions, negative FROM ranking_author_signals WHERE viewer_id = ",
            );
            q.push_bind(viewer.as_uuid()).push(" AND author_id IN (");
            let mut list = q.separated(", ");
            for a in chunk {
                list.push_bind(a.as_uuid());
            }
            list.push_unseparated(")");
            let rows = q.build().fetch_all(&self.db.reader).await.db()?;
            for r in rows {
                out.insert(
                    UserId::from(r.get::<Uuid, _>("author_id")),
                    AuthorSignals {
                        interactions: r.get("interactions"),
                        negative: r.get("negative"),
                    },
                );
            }
        }
        Ok(out)
    }
}
