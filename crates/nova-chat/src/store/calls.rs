//! [`CallStore`] over [`Db`](nova_db::Db): call sessions and participants, location
//! shares; one set of queries for both engines.
//!
//! A call changes under a version: [`CallStore::update_call`] writes only when the stored
//! version is the one the service read, so two people answering (or the ring-timeout
//! sweep racing an accept) cannot both win. At most one call per conversation is open,
//! by a partial unique index.

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_db::{DbResultExt, on_db};
use nova_events::AppendEvents;
use sqlx::QueryBuilder;

use super::CallStore;
use super::sql::{SqlChatStore, device_id, stored, time, us};
use crate::events;
use crate::model::{
    Call, CallId, CallParticipant, CallStatus, ConversationId, EndReason, LocationShare,
    LocationShareId, ParticipantState,
};

const CALL: &str = "SELECT id, conversation_id, started_by, video, status, end_reason, version, \
     created_us, ring_until_us, answered_us, ended_us FROM call_sessions";

type CallRow = (
    CallId,
    ConversationId,
    UserId,
    bool,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

type ParticipantRow = (UserId, String, Option<String>, Option<i64>, Option<i64>);

const PARTICIPANTS: &str = "SELECT user_id, state, device_id, joined_us, left_us \
     FROM call_participants WHERE call_id = $1";

fn opt_time(value: Option<i64>) -> Result<Option<Timestamp>> {
    value.map(time).transpose()
}

fn call_from(row: CallRow, participants: Vec<ParticipantRow>) -> Result<Call> {
    let mut people = participants
        .into_iter()
        .map(|(user_id, state, device, joined, left)| {
            Ok(CallParticipant {
                user_id,
                state: stored(ParticipantState::parse(&state), "participant state")?,
                device_id: device.map(device_id).transpose()?,
                joined_at: opt_time(joined)?,
                left_at: opt_time(left)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let caller = row.2;
    // The caller first, then by user id.
    people.sort_by_key(|p| (p.user_id != caller, p.user_id.as_uuid()));
    Ok(Call {
        id: row.0,
        conversation_id: row.1,
        started_by: caller,
        video: row.3,
        status: stored(CallStatus::parse(&row.4), "call status")?,
        end_reason: row
            .5
            .map(|r| stored(EndReason::parse(&r), "end reason"))
            .transpose()?,
        version: row.6,
        created_at: time(row.7)?,
        ring_until: time(row.8)?,
        answered_at: opt_time(row.9)?,
        ended_at: opt_time(row.10)?,
        participants: people,
    })
}

const SHARE: &str = "SELECT id, conversation_id, user_id, started_us, expires_us, stopped_us \
     FROM location_shares";

type ShareRow = (
    LocationShareId,
    ConversationId,
    UserId,
    i64,
    i64,
    Option<i64>,
);

fn share_from(row: ShareRow) -> Result<LocationShare> {
    Ok(LocationShare {
        id: row.0,
        conversation_id: row.1,
        user_id: row.2,
        started_at: time(row.3)?,
        expires_at: time(row.4)?,
        stopped_at: opt_time(row.5)?,
    })
}

/// Inserts or rewrites every participant of `call` (in one statement).
macro_rules! write_participants {
    ($tx:ident, $call:expr) => {{
        let call: &Call = $call;
        if !call.participants.is_empty() {
            let mut q = QueryBuilder::new(
                "INSERT INTO call_participants (call_id, user_id, state, device_id, joined_us, \
                 left_us) ",
            );
            q.push_values(&call.participants, |mut b, p| {
                b.push_bind(call.id)
                    .push_bind(p.user_id)
                    .push_bind(p.state.as_str())
                    .push_bind(p.device_id.as_ref().map(|d| d.as_str().to_owned()))
                    .push_bind(p.joined_at.map(us))
                    .push_bind(p.left_at.map(us));
            });
            q.push(
                " ON CONFLICT (call_id, user_id) DO UPDATE SET state = excluded.state, \
                 device_id = excluded.device_id, joined_us = excluded.joined_us, \
                 left_us = excluded.left_us",
            );
            q.build().execute(&mut *$tx).await.db()?;
        }
    }};
}

#[async_trait]
impl CallStore for SqlChatStore {
    async fn insert_call(&self, c: &Call) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO call_sessions (id, conversation_id, started_by, video, status, \
                 end_reason, version, created_us, ring_until_us, answered_us, ended_us) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(c.id)
            .bind(c.conversation_id)
            .bind(c.started_by)
            .bind(c.video)
            .bind(c.status.as_str())
            .bind(c.end_reason.map(EndReason::as_str))
            .bind(c.version)
            .bind(us(c.created_at))
            .bind(us(c.ring_until))
            .bind(c.answered_at.map(us))
            .bind(c.ended_at.map(us))
            .execute(&mut *tx)
            .await
            .db()?;
            write_participants!(tx, c);
            let mut out = vec![events::call_started(c)];
            if c.status == CallStatus::Ended {
                out.push(events::call_ended(c));
            }
            tx.append_events(&out).await?;
        });
        Ok(())
    }

    async fn call(&self, id: CallId) -> Result<Option<Call>> {
        let sql = format!("{CALL} WHERE id = $1");
        let (row, people): (Option<CallRow>, Vec<ParticipantRow>) = on_db!(&self.db, read, |c| {
            let row: Option<CallRow> =
                sqlx::query_as(&sql).bind(id).fetch_optional(c).await.db()?;
            let people: Vec<ParticipantRow> = sqlx::query_as(PARTICIPANTS)
                .bind(id)
                .fetch_all(c)
                .await
                .db()?;
            Ok::<_, nova_core::Error>((row, people))
        })?;
        row.map(|r| call_from(r, people)).transpose()
    }

    async fn open_call(&self, conversation: ConversationId) -> Result<Option<Call>> {
        let id: Option<CallId> = on_db!(&self.db, read, |c| {
            sqlx::query_scalar(
                "SELECT id FROM call_sessions WHERE conversation_id = $1 AND status <> 'ended'",
            )
            .bind(conversation)
            .fetch_optional(c)
            .await
            .db()
        })?;
        match id {
            Some(id) => self.call(id).await,
            None => Ok(None),
        }
    }

    async fn update_call(&self, c: &Call, expected: i64) -> Result<bool> {
        let written = on_db!(&self.db, tx, |tx| {
            let changed = sqlx::query(
                "UPDATE call_sessions SET status = $3, end_reason = $4, version = $5, \
                 answered_us = $6, ended_us = $7 WHERE id = $1 AND version = $2",
            )
            .bind(c.id)
            .bind(expected)
            .bind(c.status.as_str())
            .bind(c.end_reason.map(EndReason::as_str))
            .bind(c.version)
            .bind(c.answered_at.map(us))
            .bind(c.ended_at.map(us))
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                == 1;
            if changed {
                write_participants!(tx, c);
                if c.status == CallStatus::Ended {
                    tx.append_events(&[events::call_ended(c)]).await?;
                }
            }
            changed
        });
        Ok(written)
    }

    async fn busy(&self, users: &[UserId], except: Option<CallId>) -> Result<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT DISTINCT p.user_id FROM call_participants p \
                 JOIN call_sessions s ON s.id = p.call_id \
                 WHERE s.status <> 'ended' AND p.state = 'joined' AND p.call_id <> ",
            );
            q.push_bind(except.unwrap_or_default());
            q.push(" AND p.user_id IN (");
            let mut list = q.separated(", ");
            for u in users {
                list.push_bind(*u);
            }
            list.push_unseparated(")");
            q.build_query_scalar::<UserId>().fetch_all(c).await.db()
        })
    }

    async fn due_calls(&self, now: Timestamp, limit: u32) -> Result<Vec<CallId>> {
        on_db!(&self.db, read, |c| {
            sqlx::query_scalar(
                "SELECT s.id FROM call_sessions s WHERE s.status <> 'ended' \
                 AND s.ring_until_us <= $1 AND EXISTS (SELECT 1 FROM call_participants p \
                 WHERE p.call_id = s.id AND p.state = 'ringing') \
                 ORDER BY s.ring_until_us LIMIT $2",
            )
            .bind(us(now))
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db()
        })
    }

    async fn insert_share(&self, s: &LocationShare) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO location_shares (id, conversation_id, user_id, started_us, \
                 expires_us, stopped_us) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(s.id)
            .bind(s.conversation_id)
            .bind(s.user_id)
            .bind(us(s.started_at))
            .bind(us(s.expires_at))
            .bind(s.stopped_at.map(us))
            .execute(&mut *tx)
            .await
            .db()?;
            tx.append_events(&[events::location_share_started(s)])
                .await?;
        });
        Ok(())
    }

    async fn share(&self, id: LocationShareId) -> Result<Option<LocationShare>> {
        let sql = format!("{SHARE} WHERE id = $1");
        let row: Option<ShareRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(&sql).bind(id).fetch_optional(c).await.db()
        })?;
        row.map(share_from).transpose()
    }

    async fn active_shares(
        &self,
        conversation: ConversationId,
        now: Timestamp,
    ) -> Result<Vec<LocationShare>> {
        let sql = format!(
            "{SHARE} WHERE conversation_id = $1 AND expires_us > $2 AND stopped_us IS NULL \
             ORDER BY started_us, id"
        );
        let rows: Vec<ShareRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(&sql)
                .bind(conversation)
                .bind(us(now))
                .fetch_all(c)
                .await
                .db()
        })?;
        rows.into_iter().map(share_from).collect()
    }

    async fn stop_share(&self, id: LocationShareId, now: Timestamp) -> Result<bool> {
        let n = on_db!(&self.db, write, |c| {
            sqlx::query(
                "UPDATE location_shares SET stopped_us = $2 WHERE id = $1 \
                 AND stopped_us IS NULL AND expires_us > $2",
            )
            .bind(id)
            .bind(us(now))
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
