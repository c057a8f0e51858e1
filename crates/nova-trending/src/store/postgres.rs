//! PostgreSQL adapter.

use async_trait::async_trait;
use nova_core::{Error, Timestamp};
use nova_db::DbResultExt;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::{ScoreRow, TrendingStore, decode_row, encode_scores};
use crate::model::{EntityKey, ReviewState};
use crate::snapshot::Snapshot;

/// Snapshots in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresTrendingStore {
    pool: PgPool,
}

impl PostgresTrendingStore {
    /// Over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl TrendingStore for PostgresTrendingStore {
    async fn save(&self, snapshot: &Snapshot) -> Result<(), Error> {
        let at = snapshot.taken_at.unwrap_or_else(chrono::Utc::now);
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query("DELETE FROM trending_scores")
            .execute(&mut *tx)
            .await
            .db()?;
        let mut encoded = Vec::with_capacity(snapshot.rows.len());
        for row in &snapshot.rows {
            encoded.push((row, encode_scores(&row.log_scores)?));
        }
        // 9 values per row: stay under PostgreSQL's 65,535 bind limit.
        for chunk in encoded.chunks(5_000) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO trending_scores (scope, entity_kind, entity_id, log_scores, \
                 accounts, trending, cooldown_until, snapshot_at) ",
            );
            insert.push_values(chunk, |mut b, (row, scores)| {
                b.push_bind(row.scope.key())
                    .push_bind(row.entity.kind.as_str())
                    .push_bind(row.entity.id_hex())
                    .push_bind(scores.clone())
                    .push_bind(row.accounts.clone())
                    .push_bind(row.trending)
                    .push_bind(row.cooldown_until)
                    .push_bind(at);
            });
            insert.build().execute(&mut *tx).await.db()?;
        }
        for (entity, state) in &snapshot.reviews {
            upsert_review(&mut tx, *entity, *state, None, at).await?;
        }
        sqlx::query(
            "INSERT INTO trending_snapshot (id, taken_at, observed_since) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET taken_at = $1, observed_since = $2",
        )
        .bind(at)
        .bind(snapshot.observed_since)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()
    }

    async fn load(&self) -> Result<Snapshot, Error> {
        let head = sqlx::query("SELECT taken_at, observed_since FROM trending_snapshot")
            .fetch_optional(&self.pool)
            .await
            .db()?;
        let rows = sqlx::query(
            "SELECT scope, entity_kind, entity_id, log_scores, accounts, trending, cooldown_until
             FROM trending_scores ORDER BY scope, entity_kind, entity_id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        let reviews = sqlx::query(
            "SELECT entity_kind, entity_id, review_state FROM trending_metadata
             WHERE review_state <> 'pending' ORDER BY entity_kind, entity_id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(Snapshot {
            taken_at: head.as_ref().map(|h| h.get("taken_at")),
            observed_since: head.and_then(|h| h.get("observed_since")),
            rows: rows
                .into_iter()
                .map(|r| {
                    decode_row(ScoreRow {
                        scope: r.get("scope"),
                        entity_kind: r.get("entity_kind"),
                        entity_id: r.get("entity_id"),
                        log_scores: r.get("log_scores"),
                        accounts: r.get("accounts"),
                        trending: r.get("trending"),
                        cooldown_until: r.get("cooldown_until"),
                    })
                })
                .collect::<Result<_, _>>()?,
            reviews: reviews
                .into_iter()
                .map(|r| {
                    Ok((
                        EntityKey::parse(r.get("entity_kind"), r.get("entity_id"))?,
                        ReviewState::parse(r.get("review_state"))?,
                    ))
                })
                .collect::<Result<_, Error>>()?,
        })
    }

    async fn set_review(
        &self,
        entity: EntityKey,
        state: ReviewState,
        label: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await.db()?;
        upsert_review(&mut conn, entity, state, label, at).await
    }

    async fn label(&self, entity: EntityKey) -> Result<Option<String>, Error> {
        let row = sqlx::query(
            "SELECT label FROM trending_metadata WHERE entity_kind = $1 AND entity_id = $2",
        )
        .bind(entity.kind.as_str())
        .bind(entity.id_hex())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        Ok(row.and_then(|r| r.get("label")))
    }
}

async fn upsert_review(
    conn: &mut sqlx::PgConnection,
    entity: EntityKey,
    state: ReviewState,
    label: Option<&str>,
    at: Timestamp,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO trending_metadata (entity_kind, entity_id, label, review_state, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (entity_kind, entity_id) DO UPDATE
         SET label = COALESCE($3, trending_metadata.label), review_state = $4, updated_at = $5",
    )
    .bind(entity.kind.as_str())
    .bind(entity.id_hex())
    .bind(label)
    .bind(state.as_str())
    .bind(at)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}
