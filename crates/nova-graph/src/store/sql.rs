//! [`GraphStore`] on PostgreSQL and SQLite: one set of queries, run through [`on_db!`].
//!
//! **Concurrency.** Every write that changes follow edges first upserts the two users'
//! `follow_counts` rows in id order (`LOCK_PAIR`). On PostgreSQL that row lock
//! serialises all writes touching either user (deadlock-free: same order everywhere),
//! so a follow cannot slip past a concurrent block, and count updates are applied only
//! when the edge `INSERT ... ON CONFLICT DO NOTHING` / `DELETE` changed a row. SQLite
//! has one writer connection, which serialises writes anyway.
//!
//! **Round trips.** `relationships`, `counts` and `suggestions` are each one SQL
//! statement (the batch travels as a `VALUES` list).

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, on_db};
use nova_events::AppendEvents;

mod queries;

use self::queries::*;
use super::{EdgeList, GraphStore, Position};
use crate::events;
use crate::model::{CountDrift, FollowCounts, MuteSettings, Relationship, Suggestion};

/// The graph store over a [`Db`] (already migrated).
#[derive(Debug, Clone)]
pub struct SqlGraphStore {
    db: Db,
}

impl SqlGraphStore {
    /// Over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a <= b { (a, b) } else { (b, a) }
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

type RelRow = (i64, bool, bool, bool, bool, Option<bool>);
type AuditRow = (UserId, i64, i64, i64, i64);

#[async_trait]
impl GraphStore for SqlGraphStore {
    async fn follow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let (lo, hi) = ordered(follower, followee);
        let event = [events::follow_created(follower, followee, now)];
        Ok(on_db!(&self.db, tx, |tx| {
            sqlx::query(LOCK_PAIR)
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx)
                .await
                .db()?;
            let inserted = sqlx::query(FOLLOW_UNLESS_BLOCKED)
                .bind(follower)
                .bind(followee)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if inserted == 0 {
                let blocks: i64 = sqlx::query_scalar(IS_BLOCKED)
                    .bind(follower)
                    .bind(followee)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                if blocks > 0 {
                    return Err(Error::new(
                        ErrorKind::PermissionDenied,
                        "a block between these users forbids following",
                    ));
                }
                false
            } else {
                sqlx::query(ADD_COUNTS)
                    .bind(follower)
                    .bind(0_i64)
                    .bind(1_i64)
                    .bind(followee)
                    .bind(1_i64)
                    .bind(0_i64)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.append_events(&event).await?;
                true
            }
        }))
    }

    async fn unfollow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let (lo, hi) = ordered(follower, followee);
        let event = [events::follow_removed(follower, followee, "unfollow", now)];
        Ok(on_db!(&self.db, tx, |tx| {
            sqlx::query(LOCK_PAIR)
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx)
                .await
                .db()?;
            let deleted =
                sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
                    .bind(follower)
                    .bind(followee)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
            if deleted == 1 {
                sqlx::query(ADD_COUNTS)
                    .bind(follower)
                    .bind(0_i64)
                    .bind(-1_i64)
                    .bind(followee)
                    .bind(-1_i64)
                    .bind(0_i64)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.append_events(&event).await?;
            }
            deleted == 1
        }))
    }

    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let (lo, hi) = ordered(blocker, blocked);
        Ok(on_db!(&self.db, tx, |tx| {
            sqlx::query(LOCK_PAIR)
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx)
                .await
                .db()?;
            let created = sqlx::query(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
            )
            .bind(blocker)
            .bind(blocked)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                == 1;
            let removed: Vec<(UserId, UserId)> = sqlx::query_as(
                "DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) \
                 OR (follower_id = $2 AND followee_id = $1) RETURNING follower_id, followee_id",
            )
            .bind(blocker)
            .bind(blocked)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            let mut events = Vec::with_capacity(removed.len() + 1);
            if created {
                events.push(events::block_created(blocker, blocked, now));
            }
            if !removed.is_empty() {
                // blocker's (followers, following) deltas; blocked's mirror them.
                let blocker_follows = removed.iter().any(|(f, _)| *f == blocker);
                let blocked_follows = removed.iter().any(|(f, _)| *f == blocked);
                let (lost_followers, lost_following) =
                    (i64::from(blocked_follows), i64::from(blocker_follows));
                sqlx::query(ADD_COUNTS)
                    .bind(blocker)
                    .bind(-lost_followers)
                    .bind(-lost_following)
                    .bind(blocked)
                    .bind(-lost_following)
                    .bind(-lost_followers)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                for (follower, followee) in &removed {
                    events.push(events::follow_removed(*follower, *followee, "block", now));
                }
            }
            tx.append_events(&events).await?;
            created
        }))
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let event = [events::block_removed(blocker, blocked, now)];
        Ok(on_db!(&self.db, tx, |tx| {
            let deleted =
                sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
                    .bind(blocker)
                    .bind(blocked)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
            if deleted == 1 {
                tx.append_events(&event).await?;
            }
            deleted == 1
        }))
    }

    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        settings: MuteSettings,
        now: Timestamp,
    ) -> Result<bool> {
        let (lo, hi) = ordered(muter, muted);
        let event = [events::mute_created(muter, muted, settings, now)];
        Ok(on_db!(&self.db, tx, |tx| {
            sqlx::query(LOCK_PAIR)
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx)
                .await
                .db()?;
            let old: Option<(Option<Timestamp>, bool)> = sqlx::query_as(
                "SELECT until, reposts_only FROM mutes WHERE muter_id = $1 AND muted_id = $2",
            )
            .bind(muter)
            .bind(muted)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let was_active = old.is_some_and(|(until, _)| until.is_none_or(|u| u > now));
            let unchanged = was_active && old == Some((settings.until, settings.reposts_only));
            if !unchanged {
                sqlx::query(
                    "INSERT INTO mutes (muter_id, muted_id, until, reposts_only, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (muter_id, muted_id) DO UPDATE \
                     SET until = EXCLUDED.until, reposts_only = EXCLUDED.reposts_only, \
                     created_at = EXCLUDED.created_at",
                )
                .bind(muter)
                .bind(muted)
                .bind(settings.until)
                .bind(settings.reposts_only)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
                tx.append_events(&event).await?;
            }
            !was_active
        }))
    }

    async fn unmute(&self, muter: UserId, muted: UserId, now: Timestamp) -> Result<bool> {
        let event = [events::mute_removed(muter, muted, now)];
        Ok(on_db!(&self.db, tx, |tx| {
            let deleted = sqlx::query("DELETE FROM mutes WHERE muter_id = $1 AND muted_id = $2")
                .bind(muter)
                .bind(muted)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if deleted == 1 {
                tx.append_events(&event).await?;
            }
            deleted == 1
        }))
    }

    async fn relationships(
        &self,
        pairs: &[(UserId, UserId)],
        now: Timestamp,
    ) -> Result<Vec<Relationship>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "WITH p (i, a, b) AS (VALUES {}) \
             SELECT p.i, \
               EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = p.a AND f.followee_id = p.b), \
               EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = p.b AND f.followee_id = p.a), \
               EXISTS (SELECT 1 FROM blocks k WHERE k.blocker_id = p.a AND k.blocked_id = p.b), \
               EXISTS (SELECT 1 FROM blocks k WHERE k.blocker_id = p.b AND k.blocked_id = p.a), \
               (SELECT m.reposts_only FROM mutes m WHERE m.muter_id = p.a AND m.muted_id = p.b \
                  AND (m.until IS NULL OR m.until > $1)) \
             FROM p",
            values_list(pairs.len(), 3, 2)
        );
        let rows: Vec<RelRow> = on_db!(&self.db, read, |c| {
            let mut q = sqlx::query_as(&sql).bind(now);
            for (i, (a, b)) in pairs.iter().enumerate() {
                q = q
                    .bind(i64::try_from(i).unwrap_or(i64::MAX))
                    .bind(*a)
                    .bind(*b);
            }
            q.fetch_all(c).await.db()?
        });
        let mut out: Vec<Relationship> = pairs
            .iter()
            .map(|&(from, to)| Relationship {
                from,
                to,
                ..Relationship::default()
            })
            .collect();
        for (i, following, followed_by, blocking, blocked_by, mute) in rows {
            if let Some(r) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                r.following = following;
                r.followed_by = followed_by;
                r.blocking = blocking;
                r.blocked_by = blocked_by;
                r.muting = mute.is_some();
                r.muting_reposts_only = mute.unwrap_or(false);
            }
        }
        Ok(out)
    }

    async fn list(
        &self,
        list: EdgeList,
        user: UserId,
        after: Option<Position>,
        limit: u32,
    ) -> Result<Vec<Position>> {
        let sql = list_sql(list, after.is_some());
        let rows: Vec<(UserId, Timestamp)> = on_db!(&self.db, read, |c| {
            let mut q = sqlx::query_as(&sql).bind(user).bind(i64::from(limit));
            if let Some((at, id)) = after {
                q = q.bind(at).bind(id);
            }
            q.fetch_all(c).await.db()?
        });
        Ok(rows.into_iter().map(|(id, at)| (at, id)).collect())
    }

    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "WITH u (i, id) AS (VALUES {}) \
             SELECT u.i, COALESCE(c.followers, 0), COALESCE(c.following, 0) \
             FROM u LEFT JOIN follow_counts c ON c.user_id = u.id",
            values_list(users.len(), 2, 1)
        );
        let rows: Vec<(i64, i64, i64)> = on_db!(&self.db, read, |c| {
            let mut q = sqlx::query_as(&sql);
            for (i, user) in users.iter().enumerate() {
                q = q.bind(i64::try_from(i).unwrap_or(i64::MAX)).bind(*user);
            }
            q.fetch_all(c).await.db()?
        });
        let mut out: Vec<FollowCounts> = users
            .iter()
            .map(|&user| FollowCounts {
                user,
                followers: 0,
                following: 0,
            })
            .collect();
        for (i, followers, following) in rows {
            if let Some(c) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                c.followers = unsigned(followers);
                c.following = unsigned(following);
            }
        }
        Ok(out)
    }

    async fn suggestions(
        &self,
        user: UserId,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Suggestion>> {
        let rows: Vec<(UserId, i64)> = on_db!(&self.db, read, |c| sqlx::query_as(SUGGESTIONS)
            .bind(user)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db()?);
        Ok(rows
            .into_iter()
            .map(|(user, n)| Suggestion {
                user,
                mutual_connections: unsigned(n),
            })
            .collect())
    }

    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        on_db!(&self.db, read, |c| sqlx::query_scalar(BLOCKED_EITHER_WAY)
            .bind(user)
            .fetch_all(c)
            .await
            .db())
    }

    async fn count_drift(&self) -> Result<Vec<CountDrift>> {
        let rows: Vec<AuditRow> = on_db!(&self.db, read, |c| sqlx::query_as(COUNT_AUDIT)
            .fetch_all(c)
            .await
            .db()?);
        Ok(rows
            .into_iter()
            .filter(|(_, sf, sg, af, ag)| (sf, sg) != (af, ag))
            .map(|(user, sf, sg, af, ag)| CountDrift {
                user,
                stored: (unsigned(sf), unsigned(sg)),
                actual: (unsigned(af), unsigned(ag)),
            })
            .collect())
    }
}
