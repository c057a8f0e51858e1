//! [`NotificationStore`] over [`Db`], one set of queries for both engines.
//!
//! An actor joining a group is four statements in the event's transaction: upsert the
//! group (its id and whether it was unread), insert the actor (`ON CONFLICT DO NOTHING`:
//! an actor counts once), and only when the actor is new, bump the group (count, newest
//! time, unread) and the recipient's unread counter when the group turns unread.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::DateTime;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, on_db};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{Change, EventChanges, NotificationStore, Position, Touched};
use crate::model::{
    Actor, Folder, LATEST_ACTORS, Notification, NotificationId, NotificationKind, Policy,
};
use crate::preferences::Preferences;

/// The notification store.
#[derive(Debug, Clone)]
pub struct SqlNotificationStore {
    db: Db,
}

impl SqlNotificationStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

const MARK_PROCESSED: &str = "INSERT INTO processed_events (consumer, event_id, processed_at) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
// The no-op update makes RETURNING answer for an existing group too.
const UPSERT_GROUP: &str = "INSERT INTO notification_groups \
     (id, recipient_id, kind, target_id, bucket, folder, actor_count, unread, created_us, latest_us) \
     VALUES ($1, $2, $3, $4, $5, $6, 0, FALSE, $7, $7) \
     ON CONFLICT (recipient_id, kind, target_id, bucket, folder) \
     DO UPDATE SET actor_count = notification_groups.actor_count \
     RETURNING id, unread";
const INSERT_ACTOR: &str = "INSERT INTO notification_actors (group_id, actor_id, subject_id, at_us) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const BUMP_GROUP: &str = "UPDATE notification_groups SET actor_count = actor_count + 1, unread = TRUE, \
     latest_us = CASE WHEN latest_us < $2 THEN $2 ELSE latest_us END WHERE id = $1";
const ADD_UNREAD: &str = "INSERT INTO notification_unread (recipient_id, folder, unread) \
     VALUES ($1, $2, $3) ON CONFLICT (recipient_id, folder) \
     DO UPDATE SET unread = notification_unread.unread + excluded.unread";
const REMOVE_ACTOR: &str = "DELETE FROM notification_actors WHERE actor_id = $1 AND group_id IN \
     (SELECT id FROM notification_groups WHERE recipient_id = $2 AND kind = $3 AND target_id = $4) \
     RETURNING group_id";
const REMOVE_SUBJECT: &str =
    "DELETE FROM notification_actors WHERE subject_id = $1 AND subject_id <> '' RETURNING group_id";
const REMOVE_TARGET: &str = "DELETE FROM notification_groups WHERE target_id = $1 AND target_id <> '' \
     RETURNING recipient_id, folder, unread";
const SHRINK_GROUP: &str = "UPDATE notification_groups SET actor_count = actor_count - 1 WHERE id = $1 \
     RETURNING actor_count, unread, recipient_id, folder";
const COLUMNS: &str =
    "id, recipient_id, kind, target_id, folder, actor_count, unread, created_us, latest_us";

/// A group row: id, recipient, kind, target, folder, count, unread, created, latest.
type GroupRow = (
    NotificationId,
    UserId,
    String,
    String,
    String,
    i64,
    bool,
    i64,
    i64,
);

fn time(us: i64) -> Result<Timestamp> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::internal(format!("notification time {us} out of range")))
}

fn folder_of(value: &str) -> Result<Folder> {
    Folder::parse(value).map_err(|_| Error::internal(format!("stored folder {value:?}")))
}

fn group(row: GroupRow, actors: Vec<Actor>) -> Result<Notification> {
    let (id, recipient_id, kind, target, folder, count, unread, created, latest) = row;
    Ok(Notification {
        id,
        recipient_id,
        kind: NotificationKind::parse(&kind)
            .map_err(|_| Error::internal(format!("stored notification kind {kind:?}")))?,
        target_id: Some(target).filter(|t| !t.is_empty()),
        folder: folder_of(&folder)?,
        count: u64::try_from(count).unwrap_or(0),
        actors,
        unread,
        created_at: time(created)?,
        updated_at: time(latest)?,
    })
}

/// Adds `$delta` to `$recipient`'s unread counter of `$folder` in transaction `$tx`.
macro_rules! add_unread {
    ($tx:ident, $recipient:expr, $folder:expr, $delta:expr) => {
        sqlx::query(ADD_UNREAD)
            .bind($recipient)
            .bind($folder)
            .bind($delta)
            .execute(&mut *$tx)
            .await
            .db()?
    };
}

/// One actor left group `$group`: shrink it, delete it when empty (uncounting it if it
/// was unread).
macro_rules! leave {
    ($tx:ident, $group:expr) => {{
        let shrunk: Option<(i64, bool, UserId, String)> = sqlx::query_as(SHRINK_GROUP)
            .bind($group)
            .fetch_optional(&mut *$tx)
            .await
            .db()?;
        if let Some((count, unread, recipient, folder)) = shrunk
            && count <= 0
        {
            sqlx::query("DELETE FROM notification_groups WHERE id = $1")
                .bind($group)
                .execute(&mut *$tx)
                .await
                .db()?;
            if unread {
                add_unread!($tx, recipient, folder, -1_i64);
            }
        }
    }};
}

#[async_trait]
impl NotificationStore for SqlNotificationStore {
    async fn apply(
        &self,
        consumer: &str,
        events: &[EventChanges],
        window_us: i64,
        now: Timestamp,
    ) -> Result<Vec<Touched>> {
        let window_us = window_us.max(1);
        let touched = on_db!(&self.db, tx, |tx| {
            let mut touched = Vec::new();
            for event in events {
                let fresh = sqlx::query(MARK_PROCESSED)
                    .bind(consumer)
                    .bind(event.event_id.as_uuid())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected()
                    == 1;
                if !fresh {
                    continue;
                }
                for change in &event.changes {
                    match change {
                        Change::Add(a) => {
                            let at = a.at.timestamp_micros();
                            let (id, unread): (NotificationId, bool) = sqlx::query_as(UPSERT_GROUP)
                                .bind(NotificationId::new())
                                .bind(a.recipient)
                                .bind(a.kind.as_str())
                                .bind(&a.target)
                                .bind(at.div_euclid(window_us))
                                .bind(a.folder.as_str())
                                .bind(at)
                                .fetch_one(&mut *tx)
                                .await
                                .db()?;
                            let joined = sqlx::query(INSERT_ACTOR)
                                .bind(id)
                                .bind(a.actor)
                                .bind(&a.subject)
                                .bind(at)
                                .execute(&mut *tx)
                                .await
                                .db()?
                                .rows_affected()
                                == 1;
                            if joined {
                                sqlx::query(BUMP_GROUP)
                                    .bind(id)
                                    .bind(at)
                                    .execute(&mut *tx)
                                    .await
                                    .db()?;
                                if !unread {
                                    add_unread!(tx, a.recipient, a.folder.as_str(), 1_i64);
                                }
                                touched.push(Touched {
                                    recipient: a.recipient,
                                    id,
                                });
                            }
                        }
                        Change::Remove {
                            recipient,
                            kind,
                            target,
                            actor,
                        } => {
                            let groups: Vec<NotificationId> = sqlx::query_scalar(REMOVE_ACTOR)
                                .bind(*actor)
                                .bind(*recipient)
                                .bind(kind.as_str())
                                .bind(target)
                                .fetch_all(&mut *tx)
                                .await
                                .db()?;
                            for g in groups {
                                leave!(tx, g);
                            }
                        }
                        Change::RemovePost { post } => {
                            let groups: Vec<NotificationId> = sqlx::query_scalar(REMOVE_SUBJECT)
                                .bind(post)
                                .fetch_all(&mut *tx)
                                .await
                                .db()?;
                            for g in groups {
                                leave!(tx, g);
                            }
                            let gone: Vec<(UserId, String, bool)> = sqlx::query_as(REMOVE_TARGET)
                                .bind(post)
                                .fetch_all(&mut *tx)
                                .await
                                .db()?;
                            for (recipient, folder, unread) in gone {
                                if unread {
                                    add_unread!(tx, recipient, folder, -1_i64);
                                }
                            }
                        }
                    }
                }
            }
            touched
        });
        Ok(touched)
    }

    async fn list(
        &self,
        recipient: UserId,
        folder: Folder,
        limit: u32,
        after: Option<Position>,
    ) -> Result<Vec<Notification>> {
        let (before_us, before_id) =
            after.unwrap_or((i64::MAX, NotificationId::from_uuid(Uuid::max())));
        let sql = format!(
            "SELECT {COLUMNS} FROM notification_groups WHERE recipient_id = $1 AND folder = $2 \
             AND (latest_us < $3 OR (latest_us = $3 AND id < $4)) \
             ORDER BY latest_us DESC, id DESC LIMIT $5"
        );
        let rows: Vec<GroupRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(recipient)
            .bind(folder.as_str())
            .bind(before_us)
            .bind(before_id)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())?;
        self.with_actors(rows).await
    }

    async fn get(&self, recipient: UserId, id: NotificationId) -> Result<Option<Notification>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notification_groups WHERE id = $1 AND recipient_id = $2"
        );
        let row: Option<GroupRow> = on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(id)
            .bind(recipient)
            .fetch_optional(c)
            .await
            .db())?;
        Ok(self.with_actors(row.into_iter().collect()).await?.pop())
    }

    async fn unread_count(&self, recipient: UserId, folder: Folder) -> Result<u64> {
        let n: Option<i64> = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT unread FROM notification_unread WHERE recipient_id = $1 AND folder = $2"
        )
        .bind(recipient)
        .bind(folder.as_str())
        .fetch_optional(c)
        .await
        .db())?;
        Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    async fn mark_one(&self, recipient: UserId, id: NotificationId) -> Result<Option<u64>> {
        on_db!(&self.db, tx, |tx| {
            let turned: Option<String> = sqlx::query_scalar(
                "UPDATE notification_groups SET unread = FALSE \
                 WHERE id = $1 AND recipient_id = $2 AND unread RETURNING folder",
            )
            .bind(id)
            .bind(recipient)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            match turned {
                Some(folder) => {
                    add_unread!(tx, recipient, folder, -1_i64);
                    Ok(Some(1))
                }
                None => {
                    let exists: Option<NotificationId> = sqlx::query_scalar(
                        "SELECT id FROM notification_groups WHERE id = $1 AND recipient_id = $2",
                    )
                    .bind(id)
                    .bind(recipient)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
                    Ok(exists.map(|_| 0))
                }
            }
        })
    }

    async fn mark_up_to(
        &self,
        recipient: UserId,
        folder: Folder,
        up_to: Option<Position>,
    ) -> Result<u64> {
        let (us, id) = up_to.unwrap_or((i64::MAX, NotificationId::from_uuid(Uuid::max())));
        on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "UPDATE notification_groups SET unread = FALSE \
                 WHERE recipient_id = $1 AND folder = $2 AND unread \
                 AND (latest_us < $3 OR (latest_us = $3 AND id <= $4))",
            )
            .bind(recipient)
            .bind(folder.as_str())
            .bind(us)
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n > 0 {
                let delta = -i64::try_from(n).map_err(Error::internal)?;
                add_unread!(tx, recipient, folder.as_str(), delta);
            }
            Ok(n)
        })
    }

    async fn policies(&self, users: &[UserId]) -> Result<Vec<Policy>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(UserId, bool)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT user_id, filter_not_following FROM notification_policies WHERE user_id IN (",
            );
            let mut list = q.separated(", ");
            for u in users {
                list.push_bind(*u);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let found: HashMap<UserId, bool> = rows.into_iter().collect();
        Ok(users
            .iter()
            .map(|u| Policy {
                filter_not_following: found.get(u).copied().unwrap_or(false),
            })
            .collect())
    }

    async fn set_policy(&self, user: UserId, policy: Policy, now: Timestamp) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO notification_policies (user_id, filter_not_following, updated_us) \
             VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
             filter_not_following = excluded.filter_not_following, updated_us = excluded.updated_us"
        )
        .bind(user)
        .bind(policy.filter_not_following)
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }

    async fn preferences(&self, users: &[UserId]) -> Result<Vec<Preferences>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(UserId, String)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT user_id, prefs FROM notification_preferences WHERE user_id IN (",
            );
            let mut list = q.separated(", ");
            for u in users {
                list.push_bind(*u);
            }
            list.push_unseparated(")");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let mut found: HashMap<UserId, Preferences> = HashMap::with_capacity(rows.len());
        for (user, json) in rows {
            let prefs = serde_json::from_str(&json).map_err(Error::internal)?;
            found.insert(user, prefs);
        }
        Ok(users
            .iter()
            .map(|u| found.get(u).cloned().unwrap_or_default())
            .collect())
    }

    async fn set_preferences(
        &self,
        user: UserId,
        preferences: &Preferences,
        now: Timestamp,
    ) -> Result<()> {
        let json = serde_json::to_string(preferences).map_err(Error::internal)?;
        on_db!(&self.db, write, |c| sqlx::query(
            "INSERT INTO notification_preferences (user_id, prefs, updated_us) \
             VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
             prefs = excluded.prefs, updated_us = excluded.updated_us"
        )
        .bind(user)
        .bind(&json)
        .bind(now.timestamp_micros())
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }
}

impl SqlNotificationStore {
    /// The groups of `rows` with their latest actors (one query for all of them).
    async fn with_actors(&self, rows: Vec<GroupRow>) -> Result<Vec<Notification>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let latest = i64::try_from(LATEST_ACTORS).map_err(Error::internal)?;
        let actors: Vec<(NotificationId, UserId, String, i64)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT group_id, actor_id, subject_id, at_us FROM (SELECT group_id, actor_id, \
                 subject_id, at_us, ROW_NUMBER() OVER (PARTITION BY group_id \
                 ORDER BY at_us DESC, actor_id DESC) AS rn FROM notification_actors \
                 WHERE group_id IN (",
            );
            let mut list = q.separated(", ");
            for row in &rows {
                list.push_bind(row.0);
            }
            list.push_unseparated(")) ranked WHERE rn <= ");
            q.push_bind(latest);
            q.push(" ORDER BY group_id, at_us DESC, actor_id DESC");
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let mut by_group: HashMap<NotificationId, Vec<Actor>> = HashMap::new();
        for (group_id, user_id, subject, at) in actors {
            by_group.entry(group_id).or_default().push(Actor {
                user_id,
                subject_id: Some(subject).filter(|s| !s.is_empty()),
                at: time(at)?,
            });
        }
        rows.into_iter()
            .map(|row| {
                let actors = by_group.remove(&row.0).unwrap_or_default();
                group(row, actors)
            })
            .collect()
    }
}
