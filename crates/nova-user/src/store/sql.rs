//! [`UserStore`] over [`Db`] with one set of queries for both engines.

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, is_unique_violation, on_db};
use nova_events::{AppendEvents, EventEnvelope};
use sqlx::QueryBuilder;

use super::{ProfileFields, ProfileRow, UserStore};
use crate::model::{DeletedBy, MessagePolicy, NotificationPrefs, Settings};

const PROFILE_SELECT: &str = "SELECT u.id AS user_id, u.username, \
     COALESCE(p.display_name, '') AS display_name, COALESCE(p.bio, '') AS bio, \
     p.avatar_media_id, p.banner_media_id, COALESCE(p.links, '[]') AS links, \
     COALESCE(p.pronouns, '') AS pronouns, p.pinned_post_id, \
     COALESCE(s.private_account, FALSE) AS private_account, u.created_at \
     FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id \
     LEFT JOIN user_settings s ON s.user_id = u.id \
     WHERE u.deleted_at IS NULL AND u.deactivated_at IS NULL AND ";

const SETTINGS_COLUMNS: &str = "user_id, private_account, message_policy, discoverable, \
     hide_follow_counts, hide_follow_lists, notifications";

/// The users store.
#[derive(Debug, Clone)]
pub struct SqlUserStore {
    db: Db,
}

impl SqlUserStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

type SettingsRow = (UserId, bool, String, bool, bool, bool, String);

fn settings_of(row: SettingsRow) -> (UserId, Settings) {
    let (user, private_account, policy, discoverable, hide_counts, hide_lists, notifications) = row;
    let notifications: NotificationPrefs = serde_json::from_str(&notifications).unwrap_or_default();
    (
        user,
        Settings {
            private_account,
            message_policy: MessagePolicy::parse(&policy),
            discoverable,
            hide_follow_counts: hide_counts,
            hide_follow_lists: hide_lists,
            notifications,
        },
    )
}

fn taken() -> Error {
    Error::new(ErrorKind::Conflict, "username: is already taken")
}

#[async_trait]
impl UserStore for SqlUserStore {
    async fn active_user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>> {
        let rows: Vec<(UserId,)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT id FROM users WHERE deleted_at IS NULL AND deactivated_at IS NULL",
            );
            if let Some(after) = after {
                q.push(" AND id > ").push_bind(after);
            }
            q.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            q.build_query_as().fetch_all(c).await.db()
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<ProfileRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(PROFILE_SELECT);
            q.push("u.id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })
    }

    async fn profile_by_username(&self, username_key: &str) -> Result<Option<ProfileRow>> {
        let sql = format!("{PROFILE_SELECT} u.username_key = $1");
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(username_key)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn save_profile(
        &self,
        user: UserId,
        f: &ProfileFields,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO user_profiles (user_id, display_name, bio, avatar_media_id, banner_media_id, \
                 links, pronouns, pinned_post_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (user_id) DO UPDATE SET display_name = EXCLUDED.display_name, bio = EXCLUDED.bio, \
                 avatar_media_id = EXCLUDED.avatar_media_id, banner_media_id = EXCLUDED.banner_media_id, \
                 links = EXCLUDED.links, pronouns = EXCLUDED.pronouns, pinned_post_id = EXCLUDED.pinned_post_id, \
                 updated_at = EXCLUDED.updated_at",
            )
            .bind(user)
            .bind(&f.display_name)
            .bind(&f.bio)
            .bind(f.avatar)
            .bind(f.banner)
            .bind(&f.links_json)
            .bind(&f.pronouns)
            .bind(f.pinned_post)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn settings(&self, user: UserId) -> Result<Option<Settings>> {
        let sql = format!("SELECT {SETTINGS_COLUMNS} FROM user_settings WHERE user_id = $1");
        let row: Option<SettingsRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(user)
            .fetch_optional(c)
            .await
            .db())?;
        Ok(row.map(|r| settings_of(r).1))
    }

    async fn settings_many(&self, ids: &[UserId]) -> Result<Vec<(UserId, Settings)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<SettingsRow> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(format!(
                "SELECT {SETTINGS_COLUMNS} FROM user_settings WHERE user_id IN ("
            ));
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        Ok(rows.into_iter().map(settings_of).collect())
    }

    async fn save_settings(
        &self,
        user: UserId,
        s: &Settings,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        let notifications = serde_json::to_string(&s.notifications).map_err(Error::internal)?;
        on_db!(&self.db, tx, |tx| {
            sqlx::query(
                "INSERT INTO user_settings (user_id, private_account, message_policy, discoverable, \
                 hide_follow_counts, hide_follow_lists, notifications, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id) DO UPDATE SET \
                 private_account = EXCLUDED.private_account, message_policy = EXCLUDED.message_policy, \
                 discoverable = EXCLUDED.discoverable, hide_follow_counts = EXCLUDED.hide_follow_counts, \
                 hide_follow_lists = EXCLUDED.hide_follow_lists, notifications = EXCLUDED.notifications, \
                 updated_at = EXCLUDED.updated_at",
            )
            .bind(user)
            .bind(s.private_account)
            .bind(s.message_policy.as_str())
            .bind(s.discoverable)
            .bind(s.hide_follow_counts)
            .bind(s.hide_follow_lists)
            .bind(&notifications)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn change_username(
        &self,
        user: UserId,
        new_username: &str,
        old_key: &str,
        reserve_until: Timestamp,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        let new_key = new_username.to_lowercase();
        on_db!(&self.db, tx, |tx| {
            let reserved: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM username_reservations \
                 WHERE username_key = $1 AND user_id <> $2 AND reserved_until > $3",
            )
            .bind(&new_key)
            .bind(user)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            if reserved.is_some() {
                return Err(taken());
            }
            let renamed = sqlx::query(
                "UPDATE users SET username = $2, username_key = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(user)
            .bind(new_username)
            .bind(&new_key)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match renamed {
                Err(e) if is_unique_violation(&e) => return Err(taken()),
                other => other.db()?,
            };
            // Taking back one's own reserved name ends that reservation.
            sqlx::query("DELETE FROM username_reservations WHERE username_key = $1")
                .bind(&new_key)
                .execute(&mut *tx)
                .await
                .db()?;
            if old_key != new_key {
                sqlx::query(
                    "INSERT INTO username_reservations (username_key, user_id, reserved_until) VALUES ($1, $2, $3) \
                     ON CONFLICT (username_key) DO UPDATE SET user_id = EXCLUDED.user_id, reserved_until = EXCLUDED.reserved_until",
                )
                .bind(old_key)
                .bind(user)
                .bind(reserve_until)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn set_deactivated(
        &self,
        user: UserId,
        at: Option<Timestamp>,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let changed = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE users SET deactivated_at = $2 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(user)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(changed)
    }

    async fn delete(
        &self,
        user: UserId,
        by: DeletedBy,
        reason: &str,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let (kind, actor) = match by {
            DeletedBy::User => ("user", user),
            DeletedBy::Moderator(m) => ("moderator", m),
        };
        let changed = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE users SET deleted_at = $2, deleted_by = $3, deleted_by_kind = $4, deleted_reason = $5 \
                 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(user)
            .bind(now)
            .bind(actor)
            .bind(kind)
            .bind(reason)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                // Identity ends the account's sessions on the event (it owns them).
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(changed)
    }

    async fn is_deactivated(&self, user: UserId) -> Result<bool> {
        on_db!(&self.db, read, |c| {
            sqlx::query_scalar::<_, i32>(
            "SELECT 1 FROM users WHERE id = $1 AND deactivated_at IS NOT NULL AND deleted_at IS NULL"
        )
        .bind(user)
        .fetch_optional(c)
        .await
        .db()
        .map(|r| r.is_some())
        })
    }
}
