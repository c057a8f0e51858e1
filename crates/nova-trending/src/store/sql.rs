//! The SQL adapter: one set of queries for PostgreSQL and SQLite through
//! [`nova_db::on_db!`] (writes on SQLite's writer, reads on its readers).

use async_trait::async_trait;
use nova_core::{Error, Timestamp};
use nova_db::{Db, DbResultExt, on_db};
use sqlx::{QueryBuilder, Row};

use super::{ScoreRow, TrendingStore, decode_row, encode_scores};
use crate::model::{EntityKey, ReviewState};
use crate::snapshot::Snapshot;

/// Snapshots in PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct SqlTrendingStore {
    db: Db,
}

impl SqlTrendingStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Inserts or updates one review decision inside `$tx`.
macro_rules! upsert_review {
    ($tx:expr, $entity:expr, $state:expr, $label:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO trending_metadata (entity_kind, entity_id, label, review_state, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (entity_kind, entity_id) DO UPDATE
             SET label = COALESCE($3, trending_metadata.label), review_state = $4, updated_at = $5",
        )
        .bind($entity.kind.as_str())
        .bind($entity.id_hex())
        .bind($label)
        .bind($state.as_str())
        .bind($at)
        .execute(&mut *$tx)
        .await
        .db()
    };
}

#[async_trait]
impl TrendingStore for SqlTrendingStore {
    async fn save(&self, snapshot: &Snapshot) -> Result<(), Error> {
        let at = snapshot.taken_at.unwrap_or_else(chrono::Utc::now);
        let mut encoded = Vec::with_capacity(snapshot.rows.len());
        for row in &snapshot.rows {
            encoded.push((row, encode_scores(&row.log_scores)?));
        }
        on_db!(&self.db, tx, |tx| {
            sqlx::query("DELETE FROM trending_scores")
                .execute(&mut *tx)
                .await
                .db()?;
            // 9 values per row: stay under SQLite's 32,766 variable limit (PostgreSQL's is 65,535).
            for chunk in encoded.chunks(3_500) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO trending_scores (scope, entity_kind, entity_id, log_scores, \
                 accounts, trending, qualified, cooldown_until, snapshot_at) ",
                );
                insert.push_values(chunk, |mut b, (row, scores)| {
                    b.push_bind(row.scope.key())
                        .push_bind(row.entity.kind.as_str())
                        .push_bind(row.entity.id_hex())
                        .push_bind(scores.clone())
                        .push_bind(row.accounts.clone())
                        .push_bind(row.trending)
                        .push_bind(row.qualified)
                        .push_bind(row.cooldown_until)
                        .push_bind(at);
                });
                insert.build().execute(&mut *tx).await.db()?;
            }
            for (entity, state) in &snapshot.reviews {
                upsert_review!(tx, entity, state, None::<&str>, at)?;
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
        });
        Ok(())
    }

    async fn load(&self) -> Result<Snapshot, Error> {
        on_db!(&self.db, read, |c| {
            let head = sqlx::query("SELECT taken_at, observed_since FROM trending_snapshot")
                .fetch_optional(c)
                .await
                .db()?;
            let rows = sqlx::query(
                "SELECT scope, entity_kind, entity_id, log_scores, accounts, trending, qualified,
             cooldown_until FROM trending_scores ORDER BY scope, entity_kind, entity_id",
            )
            .fetch_all(c)
            .await
            .db()?;
            let reviews = sqlx::query(
                "SELECT entity_kind, entity_id, review_state FROM trending_metadata
             WHERE review_state <> 'pending' ORDER BY entity_kind, entity_id",
            )
            .fetch_all(c)
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
                            qualified: r.get("qualified"),
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
        })
    }

    async fn set_review(
        &self,
        entity: EntityKey,
        state: ReviewState,
        label: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        on_db!(&self.db, write, |c| {
            let mut conn = c.acquire().await.db()?;
            upsert_review!(conn, entity, state, label, at).map(|_| ())
        })
    }

    async fn label(&self, entity: EntityKey) -> Result<Option<String>, Error> {
        on_db!(&self.db, read, |c| {
            let row = sqlx::query(
                "SELECT label FROM trending_metadata WHERE entity_kind = $1 AND entity_id = $2",
            )
            .bind(entity.kind.as_str())
            .bind(entity.id_hex())
            .fetch_optional(c)
            .await
            .db()?;
            Ok(row.and_then(|r| r.get("label")))
        })
    }
}
