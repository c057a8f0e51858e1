//! SQLite outbox. SQLite has one writer at a time, so the outbox order is commit order
//! and positions need no extra locking.

use async_trait::async_trait;
use nova_core::{Error, EventId, Timestamp};
use nova_db::{DbResultExt, SqliteDb};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::{
    DeadLetter, DeadLetterRow, LogEntry, LogRow, OutboxStore, PRUNE_BATCH, PruneHorizon, Pruned,
    Row, dead_letter, envelope, log_entry,
};
use crate::EventEnvelope;

/// Appends events inside the caller's transaction (one multi-row INSERT per chunk).
pub async fn append_sqlite(
    conn: &mut SqliteConnection,
    events: &[EventEnvelope],
) -> Result<(), Error> {
    // 5 bound values per row; stay well under SQLite's variable limit.
    for chunk in events.chunks(1000) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload) ",
        );
        insert.push_values(chunk, |mut row, e| {
            row.push_bind(e.id.as_uuid())
                .push_bind(&e.event_type)
                .push_bind(&e.aggregate_id)
                .push_bind(e.occurred_at)
                .push_bind(&e.payload);
        });
        insert.build().execute(&mut *conn).await.db()?;
    }
    Ok(())
}

/// `(?, ?, ...)` binding every id.
fn push_ids<'a>(query: &mut QueryBuilder<'a, Sqlite>, ids: &'a [EventId]) {
    query.push("(");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.as_uuid());
    }
    list.push_unseparated(")");
}

/// The outbox on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteOutbox {
    db: SqliteDb,
}

impl SqliteOutbox {
    /// Over `db`.
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OutboxStore for SqliteOutbox {
    async fn append(&self, events: &[EventEnvelope]) -> Result<(), Error> {
        let mut tx = self.db.writer.begin().await.db()?;
        append_sqlite(&mut tx, events).await?;
        tx.commit().await.db()
    }

    async fn fetch_unpublished(&self, limit: u32) -> Result<Vec<EventEnvelope>, Error> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT event_id, event_type, aggregate_id, occurred_at, payload
             FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.db.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(envelope).collect())
    }

    async fn mark_published(&self, ids: &[EventId], at: Timestamp) -> Result<(), Error> {
        for chunk in ids.chunks(1000) {
            let mut update = QueryBuilder::<Sqlite>::new("UPDATE outbox SET published_at = ");
            update.push_bind(at);
            update.push(" WHERE published_at IS NULL AND event_id IN ");
            push_ids(&mut update, chunk);
            update.build().execute(&self.db.writer).await.db()?;
        }
        Ok(())
    }

    async fn append_to_log(&self, ids: &[EventId], at: Timestamp) -> Result<u64, Error> {
        let mut tx = self.db.writer.begin().await.db()?;
        let mut positioned = 0;
        for chunk in ids.chunks(1000) {
            // Number the not-yet-positioned rows in outbox order after the head, in one
            // statement; the single writer makes this the commit order too.
            let mut update = QueryBuilder::<Sqlite>::new(
                "UPDATE outbox SET published_at = COALESCE(published_at, ",
            );
            update.push_bind(at);
            update.push(
                "), log_position = (SELECT position FROM event_log_head WHERE id = 1) + r.rn
                 FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM outbox
                       WHERE log_position IS NULL AND event_id IN ",
            );
            push_ids(&mut update, chunk);
            update.push(") AS r WHERE outbox.seq = r.seq");
            let n = update.build().execute(&mut *tx).await.db()?.rows_affected();
            sqlx::query("UPDATE event_log_head SET position = position + ? WHERE id = 1")
                .bind(n as i64)
                .execute(&mut *tx)
                .await
                .db()?;
            positioned += n;
        }
        tx.commit().await.db()?;
        Ok(positioned)
    }

    async fn read_log(&self, after: i64, limit: u32) -> Result<Vec<LogEntry>, Error> {
        let rows: Vec<LogRow> = sqlx::query_as(
            "SELECT log_position, event_id, event_type, aggregate_id, occurred_at, payload
             FROM outbox WHERE log_position > ? ORDER BY log_position LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.db.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(log_entry).collect())
    }

    async fn log_head(&self) -> Result<i64, Error> {
        sqlx::query_scalar("SELECT position FROM event_log_head WHERE id = 1")
            .fetch_one(&self.db.reader)
            .await
            .db()
    }

    async fn consumer_offset(&self, consumer: &str) -> Result<i64, Error> {
        let offset: Option<i64> =
            sqlx::query_scalar("SELECT position FROM event_consumer_offsets WHERE consumer = ?")
                .bind(consumer)
                .fetch_optional(&self.db.reader)
                .await
                .db()?;
        Ok(offset.unwrap_or(0))
    }

    async fn commit_offset(
        &self,
        consumer: &str,
        position: i64,
        at: Timestamp,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO event_consumer_offsets (consumer, position, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (consumer) DO UPDATE
             SET position = MAX(event_consumer_offsets.position, excluded.position),
                 updated_at = excluded.updated_at",
        )
        .bind(consumer)
        .bind(position)
        .bind(at)
        .execute(&self.db.writer)
        .await
        .db()?;
        Ok(())
    }

    async fn try_mark_processed(
        &self,
        consumer: &str,
        event_id: EventId,
        at: Timestamp,
    ) -> Result<bool, Error> {
        let mut conn = self.db.writer.acquire().await.db()?;
        crate::idempotency::mark_processed_sqlite(&mut conn, consumer, event_id, at).await
    }

    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, Error> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM processed_events WHERE consumer = ? AND event_id = ?",
        )
        .bind(consumer)
        .bind(event_id.as_uuid())
        .fetch_optional(&self.db.reader)
        .await
        .db()?;
        Ok(found.is_some())
    }

    async fn record_dead_letter(
        &self,
        consumer: &str,
        entry: &LogEntry,
        attempts: i32,
        error: &str,
        at: Timestamp,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO event_dead_letters (consumer, event_id, log_position, attempts, last_error, failed_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (consumer, event_id) DO UPDATE
             SET attempts = excluded.attempts, last_error = excluded.last_error, failed_at = excluded.failed_at",
        )
        .bind(consumer)
        .bind(entry.event.id.as_uuid())
        .bind(entry.position)
        .bind(attempts)
        .bind(error)
        .bind(at)
        .execute(&self.db.writer)
        .await
        .db()?;
        Ok(())
    }

    async fn dead_letters(&self, consumer: &str) -> Result<Vec<DeadLetter>, Error> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT consumer, event_id, log_position, attempts, last_error
             FROM event_dead_letters WHERE consumer = ? ORDER BY log_position",
        )
        .bind(consumer)
        .fetch_all(&self.db.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(dead_letter).collect())
    }

    async fn prune(&self, horizon: PruneHorizon) -> Result<Pruned, Error> {
        let events = if horizon.log {
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
             WHERE log_position <= (SELECT MIN(position) FROM event_consumer_offsets)
               AND published_at < ? LIMIT ?)"
        } else {
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
             WHERE published_at < ? LIMIT ?)"
        };
        let processed = "DELETE FROM processed_events WHERE rowid IN
             (SELECT rowid FROM processed_events WHERE processed_at < ? LIMIT ?)";
        let mut pruned = Pruned::default();
        for (sql, count) in [
            (events, &mut pruned.events),
            (processed, &mut pruned.processed),
        ] {
            loop {
                let n = sqlx::query(sql)
                    .bind(horizon.before)
                    .bind(PRUNE_BATCH)
                    .execute(&self.db.writer)
                    .await
                    .db()?
                    .rows_affected();
                *count += n;
                if n < PRUNE_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(pruned)
    }
}
