//! PostgreSQL outbox.

use async_trait::async_trait;
use nova_core::{Error, EventId, Timestamp};
use nova_db::DbResultExt;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    DeadLetter, DeadLetterRow, LogEntry, LogRow, OutboxStore, PRUNE_BATCH, PruneHorizon, Pruned,
    Row, dead_letter, envelope, log_entry,
};
use crate::{EventBus, EventEnvelope};

/// Appends events inside the caller's transaction (one round trip for the batch).
pub async fn append_postgres(
    conn: &mut PgConnection,
    events: &[EventEnvelope],
) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.id.as_uuid()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let aggregates: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    let times: Vec<Timestamp> = events.iter().map(|e| e.occurred_at).collect();
    let payloads: Vec<&[u8]> = events.iter().map(|e| e.payload.as_slice()).collect();
    // WITH ORDINALITY keeps the batch's order in `seq`.
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload)
         SELECT id, t, a, o, p
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::bytea[])
              WITH ORDINALITY AS b(id, t, a, o, p, n)
         ORDER BY n",
    )
    .bind(&ids)
    .bind(&types)
    .bind(&aggregates)
    .bind(&times)
    .bind(&payloads)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}

/// The outbox on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresOutbox {
    pool: PgPool,
}

impl PostgresOutbox {
    /// Over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl OutboxStore for PostgresOutbox {
    async fn append(&self, events: &[EventEnvelope]) -> Result<(), Error> {
        let mut tx = self.pool.begin().await.db()?;
        append_postgres(&mut tx, events).await?;
        tx.commit().await.db()
    }

    async fn fetch_unpublished(&self, limit: u32) -> Result<Vec<EventEnvelope>, Error> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT event_id, event_type, aggregate_id, occurred_at, payload
             FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().map(envelope).collect())
    }

    async fn mark_published(&self, ids: &[EventId], at: Timestamp) -> Result<(), Error> {
        let ids: Vec<Uuid> = ids.iter().map(EventId::as_uuid).collect();
        sqlx::query(
            "UPDATE outbox SET published_at = $2
             WHERE event_id = ANY($1) AND published_at IS NULL",
        )
        .bind(&ids)
        .bind(at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn relay_batch(
        &self,
        limit: u32,
        bus: &dyn EventBus,
        at: Timestamp,
    ) -> Result<usize, Error> {
        let mut tx = self.pool.begin().await.db()?;
        // Rows another relay holds are skipped, not waited for: relays share the outbox.
        // The locks last until the batch is marked; a relay that dies releases them
        // (rollback) and the batch is published again.
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT event_id, event_type, aggregate_id, occurred_at, payload
             FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1
             FOR UPDATE SKIP LOCKED",
        )
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .db()?;
        if rows.is_empty() {
            return Ok(0);
        }
        let events: Vec<EventEnvelope> = rows.into_iter().map(envelope).collect();
        bus.publish(&events).await?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id.as_uuid()).collect();
        sqlx::query("UPDATE outbox SET published_at = $2 WHERE event_id = ANY($1)")
            .bind(&ids)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(events.len())
    }

    async fn append_to_log(&self, ids: &[EventId], at: Timestamp) -> Result<u64, Error> {
        let ids: Vec<Uuid> = ids.iter().map(EventId::as_uuid).collect();
        let mut tx = self.pool.begin().await.db()?;
        // Lock the head first: relays take turns, so positions commit in order.
        let head: i64 =
            sqlx::query_scalar("SELECT position FROM event_log_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await
                .db()?;
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM outbox WHERE event_id = ANY($1) AND log_position IS NULL
             ORDER BY seq FOR UPDATE",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        if seqs.is_empty() {
            return Ok(0);
        }
        let positions: Vec<i64> = (1..=seqs.len() as i64).map(|i| head + i).collect();
        sqlx::query(
            "UPDATE outbox AS o SET log_position = v.pos, published_at = COALESCE(o.published_at, $3)
             FROM UNNEST($1::bigint[], $2::bigint[]) AS v(seq, pos) WHERE o.seq = v.seq",
        )
        .bind(&seqs)
        .bind(&positions)
        .bind(at)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("UPDATE event_log_head SET position = $1 WHERE id = 1")
            .bind(head + seqs.len() as i64)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(seqs.len() as u64)
    }

    async fn read_log(&self, after: i64, limit: u32) -> Result<Vec<LogEntry>, Error> {
        let rows: Vec<LogRow> = sqlx::query_as(
            "SELECT log_position, event_id, event_type, aggregate_id, occurred_at, payload
             FROM outbox WHERE log_position > $1 ORDER BY log_position LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().map(log_entry).collect())
    }

    async fn log_head(&self) -> Result<i64, Error> {
        sqlx::query_scalar("SELECT position FROM event_log_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .db()
    }

    async fn consumer_offset(&self, consumer: &str) -> Result<i64, Error> {
        let offset: Option<i64> =
            sqlx::query_scalar("SELECT position FROM event_consumer_offsets WHERE consumer = $1")
                .bind(consumer)
                .fetch_optional(&self.pool)
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
            "INSERT INTO event_consumer_offsets (consumer, position, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (consumer) DO UPDATE
             SET position = GREATEST(event_consumer_offsets.position, EXCLUDED.position),
                 updated_at = EXCLUDED.updated_at",
        )
        .bind(consumer)
        .bind(position)
        .bind(at)
        .execute(&self.pool)
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
        let mut conn = self.pool.acquire().await.db()?;
        crate::idempotency::mark_processed_postgres(&mut conn, consumer, event_id, at).await
    }

    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, Error> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2",
        )
        .bind(consumer)
        .bind(event_id.as_uuid())
        .fetch_optional(&self.pool)
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
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (consumer, event_id) DO UPDATE
             SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, failed_at = EXCLUDED.failed_at",
        )
        .bind(consumer)
        .bind(entry.event.id.as_uuid())
        .bind(entry.position)
        .bind(attempts)
        .bind(error)
        .bind(at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn dead_letters(&self, consumer: &str) -> Result<Vec<DeadLetter>, Error> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT consumer, event_id, log_position, attempts, last_error
             FROM event_dead_letters WHERE consumer = $1 ORDER BY log_position",
        )
        .bind(consumer)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().map(dead_letter).collect())
    }

    async fn prune(&self, horizon: PruneHorizon) -> Result<Pruned, Error> {
        let events = if horizon.log {
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
             WHERE log_position <= (SELECT MIN(position) FROM event_consumer_offsets)
               AND published_at < $1 LIMIT $2)"
        } else {
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
             WHERE published_at < $1 LIMIT $2)"
        };
        let processed = "DELETE FROM processed_events WHERE ctid IN
             (SELECT ctid FROM processed_events WHERE processed_at < $1 LIMIT $2)";
        let mut pruned = Pruned::default();
        for (sql, count) in [
            (events, &mut pruned.events),
            (processed, &mut pruned.processed),
        ] {
            loop {
                let n = sqlx::query(sql)
                    .bind(horizon.before)
                    .bind(PRUNE_BATCH)
                    .execute(&self.pool)
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
