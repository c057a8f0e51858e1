//! [`ChatStore`] over [`Db`], one set of queries for both engines.
//!
//! A message is one transaction: the message row (its idempotency key unique per
//! sender), its envelopes, one multi-row upsert that advances every recipient device's
//! sequence (devices sorted, so concurrent sends lock them in one order) and one
//! multi-row insert of the queue entries. A device's sequence is contiguous and
//! committed in order, which is what lets a connection resume without loss or duplicates.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::DateTime;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, on_db};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};
use nova_events::AppendEvents;
use sqlx::QueryBuilder;

use super::{ChatStore, NewConversation, Stored, Version};
use crate::events::{self, SentFacts};
use crate::model::{
    Conversation, ConversationId, ConversationKind, Delivery, DmPolicy, HistoryEnvelope,
    HistoryItem, Member, Members, MessageKind, NewMessage, Role, Sent,
};

/// The chat store.
#[derive(Debug, Clone)]
pub struct SqlChatStore {
    pub(super) db: Db,
}

impl SqlChatStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

pub(super) fn time(us: i64) -> Result<Timestamp> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::internal(format!("chat time {us} out of range")))
}

pub(super) fn us(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

pub(super) fn stored<T>(value: Result<T>, what: &str) -> Result<T> {
    value.map_err(|_| Error::internal(format!("stored {what} unreadable")))
}

pub(super) fn device_id(value: String) -> Result<DeviceId> {
    stored(DeviceId::new(value), "device id")
}

const CONVERSATION: &str = "SELECT c.id, c.kind, c.title, c.avatar_media_id, c.created_by, \
     c.member_version, c.last_message_id, c.created_us, c.updated_us, m.role, m.archived, \
     m.keep_archived, m.muted_until_us, m.read_up_to \
     FROM chat_conversations c JOIN chat_members m ON m.conversation_id = c.id";

type ConversationRow = (
    ConversationId,
    String,
    String,
    String,
    UserId,
    i64,
    i64,
    i64,
    i64,
    String,
    bool,
    bool,
    Option<i64>,
    i64,
);

fn conversation(row: ConversationRow) -> Result<Conversation> {
    let (id, kind, title, avatar, created_by, version, last, created, updated) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    Ok(Conversation {
        id,
        kind: stored(ConversationKind::parse(&kind), "conversation kind")?,
        title,
        avatar_media_id: avatar,
        created_by,
        member_version: version,
        last_message_id: last,
        created_at: time(created)?,
        updated_at: time(updated)?,
        role: stored(Role::parse(&row.9), "role")?,
        archived: row.10,
        keep_archived: row.11,
        muted_until: row.12.map(time).transpose()?,
        read_up_to: row.13,
    })
}

const BUMP_VERSION: &str = "UPDATE chat_conversations SET member_version = member_version + 1, \
     updated_us = $2 WHERE id = $1 RETURNING member_version";
/// Bumps the member version and records `chat.members_changed` in the same transaction;
/// evaluates to the new version. A macro, not a function: `on_db!` hands each engine its
/// own transaction type.
macro_rules! announce_members_changed {
    ($tx:ident, $id:expr, $at:expr, $change:literal, $users:expr, $actor:expr, $now:expr) => {{
        let version: i64 = sqlx::query_scalar(BUMP_VERSION)
            .bind($id)
            .bind($at)
            .fetch_one(&mut *$tx)
            .await
            .db()?;
        let event = events::members_changed($id, $change, $users, version, $actor, $now);
        $tx.append_events(&[event]).await?;
        version
    }};
}
const INSERT_MEMBER: &str = "INSERT INTO chat_members (conversation_id, user_id, role, joined_us, \
     archived, keep_archived, muted_until_us, read_up_to, delivered_up_to) \
     VALUES ($1, $2, $3, $4, FALSE, FALSE, NULL, 0, 0) ON CONFLICT DO NOTHING";
const DELIVERY: &str = "SELECT i.seq, m.conversation_id, m.id, m.kind, m.sender_user_id, \
     m.sender_device_id, e.algorithm, e.session_id, e.ciphertext, m.created_us \
     FROM chat_inbox i JOIN chat_messages m ON m.id = i.message_id \
     JOIN chat_envelopes e ON e.message_id = i.message_id AND e.idx = i.envelope_idx";

type DeliveryRow = (
    i64,
    ConversationId,
    i64,
    String,
    UserId,
    String,
    String,
    String,
    Vec<u8>,
    i64,
);

fn delivery(row: DeliveryRow) -> Result<Delivery> {
    Ok(Delivery {
        seq: row.0,
        conversation_id: row.1,
        message_id: row.2,
        kind: stored(MessageKind::parse(&row.3), "message kind")?,
        sender: DeviceAddress::new(row.4, device_id(row.5)?),
        algorithm: stored(Algorithm::parse(&row.6), "algorithm")?,
        session_id: row.7,
        ciphertext: row.8,
        created_at: time(row.9)?,
    })
}

#[async_trait]
impl ChatStore for SqlChatStore {
    async fn create(
        &self,
        new: &NewConversation,
        now: Timestamp,
    ) -> Result<(ConversationId, bool)> {
        let at = us(now);
        let out = on_db!(&self.db, tx, |tx| {
            let created = sqlx::query(
                "INSERT INTO chat_conversations (id, kind, direct_key, title, avatar_media_id, \
                 created_by, member_version, last_message_id, created_us, updated_us) \
                 VALUES ($1, $2, $3, $4, '', $5, 1, 0, $6, $6) ON CONFLICT DO NOTHING",
            )
            .bind(new.id)
            .bind(new.kind.as_str())
            .bind(new.direct_key.as_deref())
            .bind(&new.title)
            .bind(new.created_by)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                == 1;
            if created {
                for (user, role) in &new.members {
                    sqlx::query(INSERT_MEMBER)
                        .bind(new.id)
                        .bind(*user)
                        .bind(role.as_str())
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                }
                let users: Vec<UserId> = new.members.iter().map(|(u, _)| *u).collect();
                let event =
                    events::conversation_created(new.id, new.kind, new.created_by, &users, now);
                tx.append_events(&[event]).await?;
                (new.id, true)
            } else {
                let id: ConversationId =
                    sqlx::query_scalar("SELECT id FROM chat_conversations WHERE direct_key = $1")
                        .bind(new.direct_key.as_deref())
                        .fetch_one(&mut *tx)
                        .await
                        .db()?;
                (id, false)
            }
        });
        Ok(out)
    }

    async fn direct(&self, key: &str) -> Result<Option<ConversationId>> {
        on_db!(&self.db, read, |c| {
            sqlx::query_scalar("SELECT id FROM chat_conversations WHERE direct_key = $1")
                .bind(key)
                .fetch_optional(c)
                .await
                .db()
        })
    }

    async fn conversation(
        &self,
        id: ConversationId,
        viewer: UserId,
    ) -> Result<Option<Conversation>> {
        let sql = format!("{CONVERSATION} WHERE c.id = $1 AND m.user_id = $2");
        let row: Option<ConversationRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(&sql)
                .bind(id)
                .bind(viewer)
                .fetch_optional(c)
                .await
                .db()
        })?;
        row.map(conversation).transpose()
    }

    async fn conversations(
        &self,
        viewer: UserId,
        archived: bool,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        let sql = format!(
            "{CONVERSATION} WHERE m.user_id = $1 AND m.archived = $2 \
             ORDER BY c.updated_us DESC, c.id DESC LIMIT $3"
        );
        let rows: Vec<ConversationRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(&sql)
                .bind(viewer)
                .bind(archived)
                .bind(i64::from(limit))
                .fetch_all(c)
                .await
                .db()
        })?;
        rows.into_iter().map(conversation).collect()
    }

    async fn members(&self, id: ConversationId) -> Result<Option<Members>> {
        let (version, rows): (Option<i64>, Vec<(UserId, String, i64, i64, i64)>) =
            on_db!(&self.db, read, |c| {
                let version: Option<i64> = sqlx::query_scalar(
                    "SELECT member_version FROM chat_conversations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(c)
                .await
                .db()?;
                let rows = sqlx::query_as(
                    "SELECT user_id, role, joined_us, read_up_to, delivered_up_to \
                     FROM chat_members WHERE conversation_id = $1 ORDER BY user_id",
                )
                .bind(id)
                .fetch_all(c)
                .await
                .db()?;
                (version, rows)
            });
        let Some(version) = version else {
            return Ok(None);
        };
        let members = rows
            .into_iter()
            .map(|(user_id, role, joined, read, delivered)| {
                Ok(Member {
                    user_id,
                    role: stored(Role::parse(&role), "role")?,
                    joined_at: time(joined)?,
                    read_up_to: read,
                    delivered_up_to: delivered,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Members {
            conversation_id: id,
            version,
            members,
        }))
    }

    async fn add_members(
        &self,
        id: ConversationId,
        users: &[UserId],
        actor: UserId,
        max: usize,
        now: Timestamp,
    ) -> Result<Version> {
        let at = us(now);
        let version = on_db!(&self.db, tx, |tx| {
            let mut added = Vec::new();
            for user in users {
                let fresh = sqlx::query(INSERT_MEMBER)
                    .bind(id)
                    .bind(*user)
                    .bind(Role::Member.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected()
                    == 1;
                if fresh {
                    added.push(*user);
                }
            }
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM chat_members WHERE conversation_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
            if usize::try_from(count).unwrap_or(usize::MAX) > max {
                return Err(Error::invalid(
                    "user_ids",
                    format!("a group has at most {max} members"),
                ));
            }
            if added.is_empty() {
                None
            } else {
                Some(announce_members_changed!(
                    tx, id, at, "added", &added, actor, now
                ))
            }
        });
        Ok(version)
    }

    async fn remove_member(
        &self,
        id: ConversationId,
        user: UserId,
        actor: UserId,
        now: Timestamp,
    ) -> Result<Version> {
        let at = us(now);
        let version = on_db!(&self.db, tx, |tx| {
            let removed =
                sqlx::query("DELETE FROM chat_members WHERE conversation_id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected()
                    == 1;
            if removed {
                // A group always has an owner while it has members.
                sqlx::query(
                    "UPDATE chat_members SET role = 'owner' WHERE conversation_id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM chat_members o WHERE o.conversation_id = $1 \
                     AND o.role = 'owner') AND user_id = (SELECT s.user_id FROM chat_members s \
                     WHERE s.conversation_id = $1 ORDER BY CASE s.role WHEN 'admin' THEN 0 \
                     ELSE 1 END, s.joined_us, s.user_id LIMIT 1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
                Some(announce_members_changed!(
                    tx,
                    id,
                    at,
                    "removed",
                    &[user],
                    actor,
                    now
                ))
            } else {
                None
            }
        });
        Ok(version)
    }

    async fn set_role(
        &self,
        id: ConversationId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: Timestamp,
    ) -> Result<Version> {
        let at = us(now);
        let version = on_db!(&self.db, tx, |tx| {
            if role == Role::Owner {
                sqlx::query(
                    "UPDATE chat_members SET role = 'admin' WHERE conversation_id = $1 \
                     AND role = 'owner' AND user_id <> $2 \
                     AND EXISTS (SELECT 1 FROM chat_members t WHERE t.conversation_id = $1 \
                     AND t.user_id = $2)",
                )
                .bind(id)
                .bind(user)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            let changed = sqlx::query(
                "UPDATE chat_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                == 1;
            if changed {
                Some(announce_members_changed!(
                    tx,
                    id,
                    at,
                    "role",
                    &[user],
                    actor,
                    now
                ))
            } else {
                None
            }
        });
        Ok(version)
    }

    async fn update_group(
        &self,
        id: ConversationId,
        title: &str,
        avatar_media_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, write, |c| {
            sqlx::query(
                "UPDATE chat_conversations SET title = $2, avatar_media_id = $3, updated_us = $4 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(title)
            .bind(avatar_media_id)
            .bind(us(now))
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    async fn insert_message(
        &self,
        id: ConversationId,
        sender: UserId,
        message: &NewMessage,
        targets: &[Vec<DeviceAddress>],
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Stored> {
        let at = us(now);
        // Each device's entries in envelope order, devices sorted (one lock order).
        let mut per_device: BTreeMap<&DeviceAddress, Vec<usize>> = BTreeMap::new();
        for (idx, devices) in targets.iter().enumerate() {
            for d in devices {
                per_device.entry(d).or_default().push(idx);
            }
        }
        let recipients: Vec<UserId> = {
            let mut users: Vec<UserId> = per_device.keys().map(|d| d.user_id).collect();
            users.dedup();
            users
        };
        let kind = message.kind.as_str();
        let out = on_db!(&self.db, tx, |tx| {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO chat_messages (conversation_id, sender_user_id, sender_device_id, \
                 idempotency_key, kind, created_us) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(id)
            .bind(sender)
            .bind(message.sender_device.as_str())
            .bind(&message.idempotency_key)
            .bind(kind)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            match inserted {
                None => {
                    let (message_id, created): (i64, i64) = sqlx::query_as(
                        "SELECT id, created_us FROM chat_messages \
                         WHERE sender_user_id = $1 AND idempotency_key = $2",
                    )
                    .bind(sender)
                    .bind(&message.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    Stored {
                        sent: Sent {
                            message_id,
                            created_at: time(created)?,
                            duplicate: true,
                        },
                        deliveries: Vec::new(),
                    }
                }
                Some(message_id) => {
                    for (idx, env) in message.envelopes.iter().enumerate() {
                        let only = match (env.algorithm, env.recipients.as_slice()) {
                            (Algorithm::Megolm, _) | (_, []) | (_, [_, _, ..]) => None,
                            (_, [one]) => Some(one),
                        };
                        sqlx::query(
                            "INSERT INTO chat_envelopes (message_id, idx, algorithm, session_id, \
                             ciphertext, recipient_user_id, recipient_device_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(message_id)
                        .bind(i32::try_from(idx).unwrap_or(i32::MAX))
                        .bind(env.algorithm.as_str())
                        .bind(&env.session_id)
                        .bind(&env.ciphertext)
                        .bind(only.map(|d| d.user_id))
                        .bind(only.map(|d| d.device_id.as_str()))
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    }
                    let mut deliveries = Vec::new();
                    // Bind limits (SQLite 32,766): 1,000 devices per statement at most.
                    let devices: Vec<(&DeviceAddress, &Vec<usize>)> =
                        per_device.iter().map(|(d, i)| (*d, i)).collect();
                    for chunk in devices.chunks(1000) {
                        let mut q = QueryBuilder::new(
                            "INSERT INTO chat_devices (user_id, device_id, last_seq, acked_seq) ",
                        );
                        q.push_values(chunk, |mut b, (d, idxs)| {
                            b.push_bind(d.user_id)
                                .push_bind(d.device_id.as_str())
                                .push_bind(i64::try_from(idxs.len()).unwrap_or(i64::MAX))
                                .push_bind(0_i64);
                        });
                        q.push(
                            " ON CONFLICT (user_id, device_id) DO UPDATE SET \
                             last_seq = chat_devices.last_seq + excluded.last_seq \
                             RETURNING user_id, device_id, last_seq",
                        );
                        let rows: Vec<(UserId, String, i64)> =
                            q.build_query_as().fetch_all(&mut *tx).await.db()?;
                        let last: HashMap<(UserId, String), i64> =
                            rows.into_iter().map(|(u, d, s)| ((u, d), s)).collect();
                        let mut entries = Vec::new();
                        for (d, idxs) in chunk {
                            let key = (d.user_id, d.device_id.as_str().to_owned());
                            let Some(last) = last.get(&key) else {
                                return Err(Error::internal("device sequence not returned"));
                            };
                            let first = last - i64::try_from(idxs.len()).unwrap_or(0) + 1;
                            for (k, idx) in idxs.iter().enumerate() {
                                let seq = first + i64::try_from(k).unwrap_or(0);
                                entries.push((*d, seq, *idx));
                            }
                        }
                        for part in entries.chunks(1000) {
                            let mut q = QueryBuilder::new(
                                "INSERT INTO chat_inbox (user_id, device_id, seq, message_id, \
                                 envelope_idx, expires_us) ",
                            );
                            q.push_values(part, |mut b, (d, seq, idx)| {
                                b.push_bind(d.user_id)
                                    .push_bind(d.device_id.as_str())
                                    .push_bind(*seq)
                                    .push_bind(message_id)
                                    .push_bind(i32::try_from(*idx).unwrap_or(i32::MAX))
                                    .push_bind(us(expires_at));
                            });
                            q.build().execute(&mut *tx).await.db()?;
                        }
                        for (d, seq, idx) in entries {
                            let env = &message.envelopes[idx];
                            deliveries.push((
                                d.clone(),
                                Delivery {
                                    seq,
                                    conversation_id: id,
                                    message_id,
                                    kind: message.kind,
                                    sender: DeviceAddress::new(
                                        sender,
                                        message.sender_device.clone(),
                                    ),
                                    algorithm: env.algorithm,
                                    session_id: env.session_id.clone(),
                                    ciphertext: env.ciphertext.clone(),
                                    created_at: now,
                                },
                            ));
                        }
                    }
                    sqlx::query(
                        "UPDATE chat_conversations SET last_message_id = $2, updated_us = $3 \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(message_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    sqlx::query(
                        "UPDATE chat_members SET archived = FALSE WHERE conversation_id = $1 \
                         AND archived AND NOT keep_archived",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    let facts = SentFacts {
                        conversation: id,
                        message_id,
                        sender,
                        sender_device: message.sender_device.as_str(),
                        kind: message.kind,
                        recipients: recipients.clone(),
                        devices: per_device.len(),
                    };
                    tx.append_events(&[events::message_sent(&facts, now)])
                        .await?;
                    Stored {
                        sent: Sent {
                            message_id,
                            created_at: now,
                            duplicate: false,
                        },
                        deliveries,
                    }
                }
            }
        });
        Ok(out)
    }

    async fn history(
        &self,
        id: ConversationId,
        device: &DeviceAddress,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>> {
        let before = before.unwrap_or(i64::MAX);
        type Row = (i64, String, UserId, String, i64);
        type Env = (i64, String, String, Vec<u8>);
        let (messages, envelopes): (Vec<Row>, Vec<Env>) = on_db!(&self.db, read, |c| {
            let messages: Vec<Row> = sqlx::query_as(
                "SELECT id, kind, sender_user_id, sender_device_id, created_us FROM chat_messages \
                 WHERE conversation_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            )
            .bind(id)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db()?;
            let envelopes: Vec<Env> = match (messages.first(), messages.last()) {
                (Some(newest), Some(oldest)) => sqlx::query_as(
                    "SELECT e.message_id, e.algorithm, e.session_id, e.ciphertext \
                     FROM chat_envelopes e JOIN chat_messages m ON m.id = e.message_id \
                     WHERE m.conversation_id = $1 AND e.message_id BETWEEN $2 AND $3 \
                     AND (e.algorithm = 'megolm.v1' OR (e.recipient_user_id = $4 \
                     AND e.recipient_device_id = $5)) ORDER BY e.message_id, e.idx",
                )
                .bind(id)
                .bind(oldest.0)
                .bind(newest.0)
                .bind(device.user_id)
                .bind(device.device_id.as_str())
                .fetch_all(c)
                .await
                .db()?,
                _ => Vec::new(),
            };
            (messages, envelopes)
        });
        let mut by_message: HashMap<i64, Vec<HistoryEnvelope>> = HashMap::new();
        for (message_id, algorithm, session_id, ciphertext) in envelopes {
            by_message
                .entry(message_id)
                .or_default()
                .push(HistoryEnvelope {
                    algorithm: stored(Algorithm::parse(&algorithm), "algorithm")?,
                    session_id,
                    ciphertext,
                });
        }
        messages
            .into_iter()
            .map(|(message_id, kind, user, device, created)| {
                Ok(HistoryItem {
                    message_id,
                    kind: stored(MessageKind::parse(&kind), "message kind")?,
                    sender: DeviceAddress::new(user, device_id(device)?),
                    created_at: time(created)?,
                    envelopes: by_message.remove(&message_id).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn inbox(
        &self,
        device: &DeviceAddress,
        after: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Delivery>> {
        let sql = format!(
            "{DELIVERY} WHERE i.user_id = $1 AND i.device_id = $2 AND i.seq > $3 \
             AND i.expires_us > $4 ORDER BY i.seq LIMIT $5"
        );
        let rows: Vec<DeliveryRow> = on_db!(&self.db, read, |c| {
            sqlx::query_as(&sql)
                .bind(device.user_id)
                .bind(device.device_id.as_str())
                .bind(after)
                .bind(us(now))
                .bind(i64::from(limit))
                .fetch_all(c)
                .await
                .db()
        })?;
        rows.into_iter().map(delivery).collect()
    }

    async fn acknowledge(
        &self,
        device: &DeviceAddress,
        up_to: i64,
    ) -> Result<(u64, Vec<(ConversationId, i64)>)> {
        let out = on_db!(&self.db, tx, |tx| {
            let delivered: Vec<(ConversationId, i64)> = sqlx::query_as(
                "SELECT m.conversation_id, MAX(m.id) FROM chat_inbox i \
                 JOIN chat_messages m ON m.id = i.message_id \
                 WHERE i.user_id = $1 AND i.device_id = $2 AND i.seq <= $3 \
                 GROUP BY m.conversation_id",
            )
            .bind(device.user_id)
            .bind(device.device_id.as_str())
            .bind(up_to)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            let removed = sqlx::query(
                "DELETE FROM chat_inbox WHERE user_id = $1 AND device_id = $2 AND seq <= $3",
            )
            .bind(device.user_id)
            .bind(device.device_id.as_str())
            .bind(up_to)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            sqlx::query(
                "UPDATE chat_devices SET acked_seq = CASE WHEN $3 > last_seq THEN last_seq \
                 ELSE $3 END WHERE user_id = $1 AND device_id = $2 AND acked_seq < $3",
            )
            .bind(device.user_id)
            .bind(device.device_id.as_str())
            .bind(up_to)
            .execute(&mut *tx)
            .await
            .db()?;
            for (conversation, message) in &delivered {
                sqlx::query(
                    "UPDATE chat_members SET delivered_up_to = $3 WHERE conversation_id = $1 \
                     AND user_id = $2 AND delivered_up_to < $3",
                )
                .bind(*conversation)
                .bind(device.user_id)
                .bind(*message)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            (removed, delivered)
        });
        Ok(out)
    }

    async fn acknowledged(&self, device: &DeviceAddress) -> Result<i64> {
        let acked: Option<i64> = on_db!(&self.db, read, |c| {
            sqlx::query_scalar(
                "SELECT acked_seq FROM chat_devices WHERE user_id = $1 AND device_id = $2",
            )
            .bind(device.user_id)
            .bind(device.device_id.as_str())
            .fetch_optional(c)
            .await
            .db()
        })?;
        Ok(acked.unwrap_or(0))
    }

    async fn mark_read(&self, id: ConversationId, user: UserId, message_id: i64) -> Result<bool> {
        let member: Option<i64> = on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "UPDATE chat_members SET read_up_to = $3 WHERE conversation_id = $1 \
                 AND user_id = $2 AND read_up_to < $3",
            )
            .bind(id)
            .bind(user)
            .bind(message_id)
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query_scalar(
                "SELECT read_up_to FROM chat_members WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await
            .db()?
        });
        Ok(member.is_some())
    }

    async fn set_archived(
        &self,
        id: ConversationId,
        user: UserId,
        archived: bool,
        keep_archived: bool,
    ) -> Result<bool> {
        let n = on_db!(&self.db, write, |c| {
            sqlx::query(
                "UPDATE chat_members SET archived = $3, keep_archived = $4 \
                 WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .bind(archived)
            .bind(archived && keep_archived)
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    async fn mute(
        &self,
        id: ConversationId,
        user: UserId,
        until: Option<Timestamp>,
    ) -> Result<bool> {
        let n = on_db!(&self.db, write, |c| {
            sqlx::query(
                "UPDATE chat_members SET muted_until_us = $3 WHERE conversation_id = $1 \
                 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .bind(until.map(us))
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    async fn dm_policies(&self, users: &[UserId]) -> Result<Vec<DmPolicy>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(UserId, String)> = on_db!(&self.db, read, |c| {
            let mut q =
                QueryBuilder::new("SELECT user_id, allow FROM chat_dm_settings WHERE user_id IN (");
            let mut list = q.separated(", ");
            for u in users {
                list.push_bind(*u);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let found: HashMap<UserId, String> = rows.into_iter().collect();
        users
            .iter()
            .map(|u| match found.get(u) {
                Some(allow) => stored(DmPolicy::parse(allow), "dm setting"),
                None => Ok(DmPolicy::default()),
            })
            .collect()
    }

    async fn set_dm_policy(&self, user: UserId, policy: DmPolicy, now: Timestamp) -> Result<()> {
        on_db!(&self.db, write, |c| {
            sqlx::query(
                "INSERT INTO chat_dm_settings (user_id, allow, updated_us) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET allow = excluded.allow, \
                 updated_us = excluded.updated_us",
            )
            .bind(user)
            .bind(policy.as_str())
            .bind(us(now))
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let n = on_db!(&self.db, write, |c| {
            sqlx::query("DELETE FROM chat_inbox WHERE expires_us <= $1")
                .bind(us(now))
                .execute(c)
                .await
                .db()
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }
}
