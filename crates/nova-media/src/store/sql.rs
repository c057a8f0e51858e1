//! [`MediaStore`] over [`Db`], one set of queries for both engines.

use async_trait::async_trait;
use chrono::DateTime;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, on_db};
use sqlx::QueryBuilder;

use super::{Completed, MediaStore};
use crate::model::{FocalPoint, Media, MediaId, MediaKind, MediaState, Variant};

/// The media store.
#[derive(Debug, Clone)]
pub struct SqlMediaStore {
    db: Db,
}

impl SqlMediaStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

const COLUMNS: &str = "id, owner_id, kind, mime, state, failure, size_bytes, original_key, \
     variants, width, height, duration_ms, blurhash, phash, alt_text, focus_x, focus_y, \
     created_us, updated_us, attached_to";

#[derive(sqlx::FromRow)]
struct Row {
    id: MediaId,
    owner_id: UserId,
    kind: String,
    mime: String,
    state: String,
    failure: String,
    size_bytes: i64,
    original_key: String,
    variants: String,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
    blurhash: Option<String>,
    phash: Option<String>,
    alt_text: String,
    focus_x: Option<f64>,
    focus_y: Option<f64>,
    created_us: i64,
    updated_us: i64,
    attached_to: String,
}

fn time(us: i64) -> Result<Timestamp> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::internal(format!("media time {us} out of range")))
}

fn small(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn nonempty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

impl Row {
    fn into_media(self) -> Result<Media> {
        let variants: Vec<Variant> = serde_json::from_str(&self.variants)
            .map_err(|e| Error::internal(format!("stored media variants: {e}")))?;
        Ok(Media {
            id: self.id,
            owner_id: self.owner_id,
            kind: MediaKind::parse(&self.kind)
                .map_err(|_| Error::internal(format!("stored media kind {:?}", self.kind)))?,
            mime: self.mime,
            state: MediaState::parse(&self.state)
                .map_err(|_| Error::internal(format!("stored media state {:?}", self.state)))?,
            failure: nonempty(self.failure),
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            original_key: nonempty(self.original_key),
            variants,
            width: small(self.width),
            height: small(self.height),
            duration_ms: self.duration_ms.and_then(|d| u64::try_from(d).ok()),
            blurhash: self.blurhash,
            phash: self.phash,
            alt_text: self.alt_text,
            focus: match (self.focus_x, self.focus_y) {
                (Some(x), Some(y)) => Some(FocalPoint { x, y }),
                _ => None,
            },
            created_at: time(self.created_us)?,
            updated_at: time(self.updated_us)?,
            attached_to: nonempty(self.attached_to),
        })
    }
}

fn json(variants: &[Variant]) -> Result<String> {
    // URLs are minted per read, never stored.
    let stored: Vec<Variant> = variants
        .iter()
        .cloned()
        .map(|v| Variant { url: None, ..v })
        .collect();
    serde_json::to_string(&stored).map_err(Error::internal)
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[async_trait]
impl MediaStore for SqlMediaStore {
    async fn insert(&self, m: &Media) -> Result<()> {
        let sql = format!(
            "INSERT INTO media ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
        );
        let variants = json(&m.variants)?;
        on_db!(&self.db, write, |c| sqlx::query(&sql)
            .bind(m.id)
            .bind(m.owner_id)
            .bind(m.kind.as_str())
            .bind(&m.mime)
            .bind(m.state.as_str())
            .bind(m.failure.as_deref().unwrap_or(""))
            .bind(int(m.size_bytes))
            .bind(m.original_key.as_deref().unwrap_or(""))
            .bind(&variants)
            .bind(m.width.map(i64::from))
            .bind(m.height.map(i64::from))
            .bind(m.duration_ms.map(int))
            .bind(&m.blurhash)
            .bind(&m.phash)
            .bind(&m.alt_text)
            .bind(m.focus.map(|f| f.x))
            .bind(m.focus.map(|f| f.y))
            .bind(m.created_at.timestamp_micros())
            .bind(m.updated_at.timestamp_micros())
            .bind(m.attached_to.as_deref().unwrap_or(""))
            .execute(c)
            .await
            .db()
            .map(|_| ()))
    }

    async fn get(&self, id: MediaId) -> Result<Option<Media>> {
        let sql = format!("SELECT {COLUMNS} FROM media WHERE id = $1");
        let row: Option<Row> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Row::into_media).transpose()
    }

    async fn get_many(&self, ids: &[MediaId]) -> Result<Vec<Media>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Row> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM media WHERE id IN ("));
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        rows.into_iter().map(Row::into_media).collect()
    }

    async fn transition(
        &self,
        id: MediaId,
        from: MediaState,
        to: MediaState,
        now: Timestamp,
    ) -> Result<bool> {
        if !from.may_become(to) {
            return Err(Error::internal(format!(
                "media cannot go from {} to {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let n = on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE media SET state = $3, updated_us = $4 WHERE id = $1 AND state = $2"
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    async fn complete(&self, id: MediaId, done: &Completed, now: Timestamp) -> Result<bool> {
        let variants = json(&done.variants)?;
        let n = on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE media SET state = 'ready', failure = '', width = $2, height = $3, \
             duration_ms = $4, variants = $5, blurhash = $6, phash = $7, original_key = $8, \
             updated_us = $9 WHERE id = $1 AND state = 'processing'"
        )
        .bind(id)
        .bind(done.width.map(i64::from))
        .bind(done.height.map(i64::from))
        .bind(done.duration_ms.map(int))
        .bind(&variants)
        .bind(&done.blurhash)
        .bind(&done.phash)
        .bind(done.original_key.as_deref().unwrap_or(""))
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    async fn fail(&self, id: MediaId, reason: &str, now: Timestamp) -> Result<bool> {
        let n = on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE media SET state = 'failed', failure = $2, updated_us = $3 \
             WHERE id = $1 AND state IN ('pending', 'processing')"
        )
        .bind(id)
        .bind(reason)
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    async fn describe(
        &self,
        id: MediaId,
        owner: UserId,
        alt_text: Option<&str>,
        focus: Option<FocalPoint>,
        now: Timestamp,
    ) -> Result<Option<Media>> {
        let n = on_db!(&self.db, write, |c| sqlx::query(
            "UPDATE media SET alt_text = COALESCE($3, alt_text), \
             focus_x = COALESCE($4, focus_x), focus_y = COALESCE($5, focus_y), updated_us = $6 \
             WHERE id = $1 AND owner_id = $2"
        )
        .bind(id)
        .bind(owner)
        .bind(alt_text)
        .bind(focus.map(|f| f.x))
        .bind(focus.map(|f| f.y))
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        self.get(id).await
    }

    async fn delete(&self, id: MediaId, owner: UserId) -> Result<Option<Media>> {
        let sql = format!("DELETE FROM media WHERE id = $1 AND owner_id = $2 RETURNING {COLUMNS}");
        let row: Option<Row> = on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(id)
            .bind(owner)
            .fetch_optional(c)
            .await
            .db())?;
        row.map(Row::into_media).transpose()
    }

    async fn attach(
        &self,
        ids: &[MediaId],
        owner: UserId,
        target: &str,
        now: Timestamp,
    ) -> Result<bool> {
        if ids.is_empty() {
            return Ok(true);
        }
        if target.is_empty() {
            return Err(Error::invalid("target", "must not be empty"));
        }
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let wanted = unique.len() as u64;
        on_db!(&self.db, tx, |tx| {
            let mut q = QueryBuilder::new("UPDATE media SET attached_to = ");
            q.push_bind(target);
            q.push(", updated_us = ");
            q.push_bind(now.timestamp_micros());
            q.push(" WHERE owner_id = ");
            q.push_bind(owner);
            // Attaching to the same target again is a no-op (a retried request).
            q.push(" AND state = 'ready' AND (attached_to = '' OR attached_to = ");
            q.push_bind(target);
            q.push(") AND id IN (");
            let mut list = q.separated(", ");
            for id in &unique {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            let n = q.build().execute(&mut *tx).await.db()?.rows_affected();
            if n != wanted {
                // All or none: the transaction is rolled back by returning early.
                return Ok(false);
            }
            Ok::<bool, Error>(true)
        })
    }

    async fn unattached_before(&self, before: Timestamp, limit: u32) -> Result<Vec<Media>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM media WHERE attached_to = '' AND created_us < $1 \
             ORDER BY created_us LIMIT $2"
        );
        let rows: Vec<Row> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(before.timestamp_micros())
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())?;
        rows.into_iter().map(Row::into_media).collect()
    }

    async fn remove_unattached(&self, id: MediaId) -> Result<bool> {
        let n = on_db!(&self.db, write, |c| sqlx::query(
            "DELETE FROM media WHERE id = $1 AND attached_to = ''"
        )
        .bind(id)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    async fn remove_attached(&self, target: &str, keep: &[MediaId]) -> Result<Vec<Media>> {
        if target.is_empty() {
            return Err(Error::invalid("target", "must not be empty"));
        }
        let rows: Vec<Row> = on_db!(&self.db, write, |c| {
            let mut q = QueryBuilder::new("DELETE FROM media WHERE attached_to = ");
            q.push_bind(target);
            if !keep.is_empty() {
                q.push(" AND id NOT IN (");
                let mut list = q.separated(", ");
                for id in keep {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
            }
            q.push(" RETURNING ");
            q.push(COLUMNS);
            q.build_query_as().fetch_all(c).await.db()
        })?;
        rows.into_iter().map(Row::into_media).collect()
    }

    async fn remove_owned_by(&self, owner: UserId, limit: u32) -> Result<Vec<Media>> {
        let sql = format!(
            "DELETE FROM media WHERE id IN \
             (SELECT id FROM media WHERE owner_id = $1 LIMIT $2) RETURNING {COLUMNS}"
        );
        let rows: Vec<Row> = on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(owner)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())?;
        rows.into_iter().map(Row::into_media).collect()
    }
}
