//! [`E2eeStore`] on PostgreSQL and SQLite: one set of queries, run through [`on_db!`].

use async_trait::async_trait;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_db::{Db, DbKind, DbResultExt, on_db};
use nova_events::AppendEvents;

use super::E2eeStore;
use crate::events;
use crate::model::{
    Algorithm, ClaimedKey, DeviceAddress, DeviceId, DeviceKeys, EncryptedMessage, KeyCounts,
    KeyKind, OutgoingMessage, SignedKey,
};

/// The E2EE store over a [`Db`].
#[derive(Debug, Clone)]
pub struct SqlE2eeStore {
    db: Db,
}

impl SqlE2eeStore {
    /// Over `db` (already migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

type DeviceRow = (UserId, String, String, String, String);
type KeyRow = (String, String, String);
type MessageRow = (i64, UserId, String, String, String, Vec<u8>, Timestamp);

const DEVICE_COLUMNS: &str = "user_id, device_id, curve25519, ed25519, signature";

/// Takes the oldest one-time key of a device. PostgreSQL skips rows another claim has
/// locked, so concurrent claimers never wait for (or receive) the same key; SQLite has a
/// single writer, so the statement is atomic as it is.
const CLAIM_PG: &str = "DELETE FROM one_time_keys WHERE id = (SELECT id FROM one_time_keys \
     WHERE user_id = $1 AND device_id = $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING key_id, public_key, signature";
const CLAIM_SQLITE: &str = "DELETE FROM one_time_keys WHERE id = (SELECT id FROM one_time_keys \
     WHERE user_id = $1 AND device_id = $2 ORDER BY id LIMIT 1) \
     RETURNING key_id, public_key, signature";

const BUMP_VERSION: &str = "INSERT INTO device_list_versions (user_id, version, updated_at) \
     VALUES ($1, 1, $2) ON CONFLICT (user_id) DO UPDATE \
     SET version = device_list_versions.version + 1, updated_at = EXCLUDED.updated_at \
     RETURNING version";

fn device_id(stored: String) -> Result<DeviceId> {
    DeviceId::new(stored).map_err(|_| Error::internal("stored device id is malformed"))
}

fn device_keys(row: DeviceRow) -> Result<DeviceKeys> {
    Ok(DeviceKeys {
        user_id: row.0,
        device_id: device_id(row.1)?,
        curve25519: row.2,
        ed25519: row.3,
        signature: row.4,
    })
}

fn signed_key(row: KeyRow) -> SignedKey {
    SignedKey {
        key_id: row.0,
        public_key: row.1,
        signature: row.2,
    }
}

fn message(row: MessageRow) -> Result<EncryptedMessage> {
    Ok(EncryptedMessage {
        id: row.0,
        sender: DeviceAddress::new(row.1, device_id(row.2)?),
        algorithm: Algorithm::parse(&row.3)
            .map_err(|_| Error::internal("stored algorithm is unknown"))?,
        session_id: row.4,
        ciphertext: row.5,
        created_at: row.6,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl E2eeStore for SqlE2eeStore {
    async fn device(&self, user: UserId, device: &DeviceId) -> Result<Option<DeviceKeys>> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM device_keys WHERE user_id = $1 AND device_id = $2"
        );
        let row: Option<DeviceRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(user)
            .bind(device.as_str())
            .fetch_optional(c)
            .await
            .db())?;
        row.map(device_keys).transpose()
    }

    async fn device_count(&self, user: UserId) -> Result<u64> {
        let n: i64 = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM device_keys WHERE user_id = $1"
        )
        .bind(user)
        .fetch_one(c)
        .await
        .db())?;
        Ok(count(n))
    }

    async fn insert_device(&self, keys: &DeviceKeys, now: Timestamp) -> Result<i64> {
        let version: i64 = on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO device_keys (user_id, device_id, curve25519, ed25519, signature, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(keys.user_id)
            .bind(keys.device_id.as_str())
            .bind(&keys.curve25519)
            .bind(&keys.ed25519)
            .bind(&keys.signature)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            let version: i64 = sqlx::query_scalar(BUMP_VERSION)
                .bind(keys.user_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            let event =
                events::device_list_changed(keys.user_id, &keys.device_id, "added", version, now);
            tx.append_events(&[event]).await?;
            version
        });
        Ok(version)
    }

    async fn add_one_time_keys(
        &self,
        user: UserId,
        device: &DeviceId,
        keys: &[SignedKey],
        max_total: u64,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2",
            )
            .bind(user)
            .bind(device.as_str())
            .fetch_one(&mut *tx)
            .await
            .db()?;
            if count(held) + keys.len() as u64 > max_total {
                return Err(Error::invalid(
                    "one_time_keys",
                    format!("a device may hold at most {max_total} unclaimed one-time keys"),
                ));
            }
            for key in keys {
                sqlx::query(
                    "INSERT INTO one_time_keys (user_id, device_id, key_id, public_key, \
                         signature, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (user_id, device_id, key_id) DO NOTHING",
                )
                .bind(user)
                .bind(device.as_str())
                .bind(&key.key_id)
                .bind(&key.public_key)
                .bind(&key.signature)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            }
        });
        Ok(())
    }

    async fn set_fallback_key(
        &self,
        user: UserId,
        device: &DeviceId,
        key: &SignedKey,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO fallback_keys (user_id, device_id, key_id, public_key, signature, \
                     created_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL) \
                     ON CONFLICT (user_id, device_id) DO UPDATE SET key_id = EXCLUDED.key_id, \
                     public_key = EXCLUDED.public_key, signature = EXCLUDED.signature, \
                     created_at = EXCLUDED.created_at, used_at = NULL",
        )
        .bind(user)
        .bind(device.as_str())
        .bind(&key.key_id)
        .bind(&key.public_key)
        .bind(&key.signature)
        .bind(now)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn key_counts(&self, user: UserId, device: &DeviceId) -> Result<KeyCounts> {
        let (otks, fallbacks): (i64, i64) = on_db!(&self.db, read, |c| {
            sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2), \
                     (SELECT COUNT(*) FROM fallback_keys WHERE user_id = $1 AND device_id = $2)",
        )
        .bind(user)
        .bind(device.as_str())
        .fetch_one(c)
        .await
        .db()
        })?;
        Ok(KeyCounts {
            one_time_keys: count(otks),
            fallback_key: fallbacks > 0,
        })
    }

    async fn claim_key(
        &self,
        claimer: &DeviceAddress,
        target: &DeviceAddress,
        now: Timestamp,
    ) -> Result<Option<ClaimedKey>> {
        let claim_sql = match self.db.kind() {
            DbKind::Postgres => CLAIM_PG,
            DbKind::Sqlite => CLAIM_SQLITE,
        };
        let device_sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM device_keys WHERE user_id = $1 AND device_id = $2"
        );
        let claimed: Option<(DeviceRow, KeyRow, KeyKind)> = on_db!(&self.db, tx, |tx| {
            let device: Option<DeviceRow> = sqlx::query_as(&device_sql)
                .bind(target.user_id)
                .bind(target.device_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            let mut out = None;
            if let Some(device) = device {
                let mut key: Option<(KeyRow, KeyKind)> = sqlx::query_as(claim_sql)
                    .bind(target.user_id)
                    .bind(target.device_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .map(|k| (k, KeyKind::OneTime));
                if key.is_none() {
                    key = sqlx::query_as(
                        "UPDATE fallback_keys SET used_at = $3 WHERE user_id = $1 \
                             AND device_id = $2 RETURNING key_id, public_key, signature",
                    )
                    .bind(target.user_id)
                    .bind(target.device_id.as_str())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .map(|k| (k, KeyKind::Fallback));
                }
                if let Some((key, kind)) = key {
                    sqlx::query(
                        "INSERT INTO key_exchanges (claimer_user_id, claimer_device_id, \
                             target_user_id, target_device_id, key_id, fallback, claimed_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(claimer.user_id)
                    .bind(claimer.device_id.as_str())
                    .bind(target.user_id)
                    .bind(target.device_id.as_str())
                    .bind(&key.0)
                    .bind(kind == KeyKind::Fallback)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    out = Some((device, key, kind));
                }
            }
            out
        });
        claimed
            .map(|(device, key, kind)| {
                Ok(ClaimedKey {
                    device: device_keys(device)?,
                    key: signed_key(key),
                    kind,
                })
            })
            .transpose()
    }

    async fn devices(&self, user: UserId) -> Result<Vec<DeviceKeys>> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM device_keys WHERE user_id = $1 ORDER BY device_id"
        );
        let rows: Vec<DeviceRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(c)
            .await
            .db())?;
        rows.into_iter().map(device_keys).collect()
    }

    async fn device_list_version(&self, user: UserId) -> Result<i64> {
        let v: Option<i64> = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT version FROM device_list_versions WHERE user_id = $1"
        )
        .bind(user)
        .fetch_optional(c)
        .await
        .db())?;
        Ok(v.unwrap_or(0))
    }

    async fn remove_device(&self, user: UserId, device: &DeviceId, now: Timestamp) -> Result<bool> {
        let removed: bool = on_db!(&self.db, tx, |tx| {
            let gone = sqlx::query("DELETE FROM device_keys WHERE user_id = $1 AND device_id = $2")
                .bind(user)
                .bind(device.as_str())
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected()
                > 0;
            if gone {
                for table in ["one_time_keys", "fallback_keys", "e2ee_message_recipients"] {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE user_id = $1 AND device_id = $2"
                    ))
                    .bind(user)
                    .bind(device.as_str())
                    .execute(&mut *tx)
                    .await
                    .db()?;
                }
                let version: i64 = sqlx::query_scalar(BUMP_VERSION)
                    .bind(user)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                let event = events::device_list_changed(user, device, "removed", version, now);
                tx.append_events(&[event]).await?;
            }
            gone
        });
        Ok(removed)
    }

    async fn insert_message(
        &self,
        sender: UserId,
        message: &OutgoingMessage,
        now: Timestamp,
    ) -> Result<i64> {
        let id: i64 = on_db!(&self.db, tx, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO e2ee_messages (sender_user_id, sender_device_id, algorithm, \
                     session_id, ciphertext, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     RETURNING id",
            )
            .bind(sender)
            .bind(message.sender_device.as_str())
            .bind(message.algorithm.as_str())
            .bind(&message.session_id)
            .bind(&message.ciphertext)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            for to in &message.recipients {
                sqlx::query(
                    "INSERT INTO e2ee_message_recipients (user_id, device_id, message_id) \
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(to.user_id)
                .bind(to.device_id.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            id
        });
        Ok(id)
    }

    async fn inbox(
        &self,
        device: &DeviceAddress,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>> {
        let rows: Vec<MessageRow> = on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT m.id, m.sender_user_id, m.sender_device_id, m.algorithm, m.session_id, \
                     m.ciphertext, m.created_at FROM e2ee_message_recipients r \
                     JOIN e2ee_messages m ON m.id = r.message_id \
                     WHERE r.user_id = $1 AND r.device_id = $2 AND r.message_id > $3 \
                     ORDER BY r.message_id LIMIT $4",
        )
        .bind(device.user_id)
        .bind(device.device_id.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .db())?;
        rows.into_iter().map(message).collect()
    }

    async fn acknowledge(&self, device: &DeviceAddress, up_to: i64) -> Result<u64> {
        let n: u64 = on_db!(&self.db, tx, |tx| {
            let ids: Vec<i64> = sqlx::query_scalar(
                "DELETE FROM e2ee_message_recipients WHERE user_id = $1 AND device_id = $2 \
                     AND message_id <= $3 RETURNING message_id",
            )
            .bind(device.user_id)
            .bind(device.device_id.as_str())
            .bind(up_to)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            for id in &ids {
                sqlx::query(
                    "DELETE FROM e2ee_messages WHERE id = $1 AND NOT EXISTS \
                         (SELECT 1 FROM e2ee_message_recipients r WHERE r.message_id = $1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            ids.len() as u64
        });
        Ok(n)
    }
}
