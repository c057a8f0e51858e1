//! [`AnalyticsStore`] over [`Db`], one set of queries for SQLite and PostgreSQL.
//!
//! A batch is one transaction: multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING id`
//! of the raw events (the ids it answers are the new ones), then the rollups of only
//! those, pre-aggregated in memory and upserted with multi-row statements.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use async_trait::async_trait;
use nova_core::Result;
use nova_db::{Db, DbResultExt, on_db};
use sqlx::QueryBuilder;

use super::AnalyticsStore;
use crate::model::{Event, EventKind, PostRank, PostTotals};

/// Bind parameters per statement (under SQLite's 32,766 and PostgreSQL's 65,535).
const PARAMS: usize = 30_000;

/// The SQL analytics store.
#[derive(Debug, Clone)]
pub struct SqlAnalyticsStore {
    db: Db,
}

impl SqlAnalyticsStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Hourly deltas of one post.
#[derive(Default, Clone, Copy)]
struct HourDelta {
    impressions: i64,
    likes: i64,
    replies: i64,
    reposts: i64,
}

/// What a batch of new events adds to the rollups.
#[derive(Default)]
struct Rollups {
    active: BTreeSet<(i32, String)>,
    counts: BTreeMap<(i32, &'static str), i64>,
    registrations: BTreeMap<String, i32>,
    posts: BTreeMap<String, (String, i64)>,
    hours: BTreeMap<(String, i64), HourDelta>,
    viewers: BTreeSet<(String, String)>,
    followers: BTreeMap<(String, i32), (i64, i64)>,
}

impl Rollups {
    fn of(events: &[&Event]) -> Self {
        let mut r = Rollups::default();
        for e in events {
            let day = e.day();
            if e.is_user() {
                r.active.insert((day, e.actor.clone()));
            }
            *r.counts.entry((day, e.kind.as_str())).or_default() += 1;
            let sign = i64::from(e.sign);
            match e.kind {
                EventKind::Registered => {
                    r.registrations.entry(e.actor.clone()).or_insert(day);
                }
                EventKind::Post => {
                    r.posts
                        .entry(e.post_id.clone())
                        .or_insert((e.actor.clone(), e.hour()));
                }
                EventKind::Follow if !e.target.is_empty() => {
                    let f = r.followers.entry((e.target.clone(), day)).or_default();
                    match sign > 0 {
                        true => f.0 += 1,
                        false => f.1 += 1,
                    }
                }
                _ => {}
            }
            if e.post_id.is_empty() {
                continue;
            }
            let delta = match e.kind {
                EventKind::Impression => HourDelta {
                    impressions: 1,
                    ..HourDelta::default()
                },
                EventKind::Like => HourDelta {
                    likes: sign,
                    ..HourDelta::default()
                },
                EventKind::Reply => HourDelta {
                    replies: sign,
                    ..HourDelta::default()
                },
                EventKind::Repost => HourDelta {
                    reposts: sign,
                    ..HourDelta::default()
                },
                _ => continue,
            };
            let h = r.hours.entry((e.post_id.clone(), e.hour())).or_default();
            h.impressions += delta.impressions;
            h.likes += delta.likes;
            h.replies += delta.replies;
            h.reposts += delta.reposts;
            if e.kind == EventKind::Impression {
                r.viewers.insert((e.post_id.clone(), e.actor.clone()));
            }
        }
        r
    }
}

/// Runs a multi-row statement over `$rows` in chunks: `$head VALUES (…), (…) $tail`,
/// each row pushed by `$push` with `$per` binds.
macro_rules! bulk {
    ($tx:ident, $head:expr, $rows:expr, $per:expr, |$b:ident, $row:ident| $push:block, $tail:expr) => {{
        let rows: Vec<_> = $rows.into_iter().collect();
        for chunk in rows.chunks((PARAMS / $per).max(1)) {
            let mut q = QueryBuilder::new($head);
            q.push_values(chunk, |mut $b, $row| $push);
            q.push($tail);
            q.build().execute(&mut *$tx).await.db()?;
        }
    }};
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl AnalyticsStore for SqlAnalyticsStore {
    async fn insert(&self, events: &[Event]) -> Result<u64> {
        // One row per id: the database answers which ids are new.
        let mut seen = HashSet::with_capacity(events.len());
        let unique: Vec<&Event> = events
            .iter()
            .filter(|e| seen.insert(e.id.as_str()))
            .collect();
        if unique.is_empty() {
            return Ok(0);
        }
        let inserted = on_db!(&self.db, tx, |tx| {
            let mut fresh: HashSet<String> = HashSet::with_capacity(unique.len());
            for chunk in unique.chunks(PARAMS / 8) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO analytics_events (id, at_us, day, kind, actor, post_id, target, sign) ",
                );
                q.push_values(chunk, |mut b, e| {
                    b.push_bind(e.id.as_str())
                        .push_bind(e.at.timestamp_micros())
                        .push_bind(e.day())
                        .push_bind(e.kind.as_str())
                        .push_bind(e.actor.as_str())
                        .push_bind(e.post_id.as_str())
                        .push_bind(e.target.as_str())
                        .push_bind(i16::from(e.sign));
                });
                q.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *tx).await.db()?;
                fresh.extend(ids);
            }
            let new: Vec<&Event> = unique
                .iter()
                .copied()
                .filter(|e| fresh.contains(&e.id))
                .collect();
            let r = Rollups::of(&new);
            bulk!(
                tx,
                "INSERT INTO analytics_daily_active (day, actor) ",
                &r.active,
                2,
                |b, row| {
                    b.push_bind(row.0).push_bind(row.1.as_str());
                },
                " ON CONFLICT DO NOTHING"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_daily_counts (day, kind, n) ",
                &r.counts,
                3,
                |b, row| {
                    b.push_bind((row.0).0)
                        .push_bind((row.0).1)
                        .push_bind(*row.1);
                },
                " ON CONFLICT (day, kind) DO UPDATE SET n = analytics_daily_counts.n + excluded.n"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_registrations (actor, day) ",
                &r.registrations,
                2,
                |b, row| {
                    b.push_bind(row.0.as_str()).push_bind(*row.1);
                },
                " ON CONFLICT DO NOTHING"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_posts (post_id, author, hour) ",
                &r.posts,
                3,
                |b, row| {
                    b.push_bind(row.0.as_str())
                        .push_bind((row.1).0.as_str())
                        .push_bind((row.1).1);
                },
                " ON CONFLICT DO NOTHING"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_post_hours (post_id, hour, impressions, likes, replies, reposts) ",
                &r.hours,
                6,
                |b, row| {
                    b.push_bind((row.0).0.as_str())
                        .push_bind((row.0).1)
                        .push_bind(row.1.impressions)
                        .push_bind(row.1.likes)
                        .push_bind(row.1.replies)
                        .push_bind(row.1.reposts);
                },
                " ON CONFLICT (post_id, hour) DO UPDATE SET \
                 impressions = analytics_post_hours.impressions + excluded.impressions, \
                 likes = analytics_post_hours.likes + excluded.likes, \
                 replies = analytics_post_hours.replies + excluded.replies, \
                 reposts = analytics_post_hours.reposts + excluded.reposts"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_post_viewers (post_id, viewer) ",
                &r.viewers,
                2,
                |b, row| {
                    b.push_bind(row.0.as_str()).push_bind(row.1.as_str());
                },
                " ON CONFLICT DO NOTHING"
            );
            bulk!(
                tx,
                "INSERT INTO analytics_follower_days (account, day, gained, lost) ",
                &r.followers,
                4,
                |b, row| {
                    b.push_bind((row.0).0.as_str())
                        .push_bind((row.0).1)
                        .push_bind((row.1).0)
                        .push_bind((row.1).1);
                },
                " ON CONFLICT (account, day) DO UPDATE SET \
                 gained = analytics_follower_days.gained + excluded.gained, \
                 lost = analytics_follower_days.lost + excluded.lost"
            );
            new.len() as u64
        });
        Ok(inserted)
    }

    async fn daily_active(&self, from: i32, to: i32) -> Result<Vec<(i32, u64)>> {
        let rows: Vec<(i32, i64)> = on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT day, COUNT(*) FROM analytics_daily_active WHERE day >= $1 AND day <= $2 \
             GROUP BY day ORDER BY day"
        )
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
        .db())?;
        Ok(rows.into_iter().map(|(d, n)| (d, count(n))).collect())
    }

    async fn active_between(&self, from: i32, to: i32) -> Result<u64> {
        let n: i64 = on_db!(&self.db, read, |c| {
            sqlx::query_scalar(
            "SELECT COUNT(DISTINCT actor) FROM analytics_daily_active WHERE day >= $1 AND day <= $2"
        )
        .bind(from)
        .bind(to)
        .fetch_one(c)
        .await
        .db()
        })?;
        Ok(count(n))
    }

    async fn daily_count(&self, kind: &str, from: i32, to: i32) -> Result<Vec<(i32, u64)>> {
        let rows: Vec<(i32, i64)> = on_db!(&self.db, read, |c| {
            sqlx::query_as(
            "SELECT day, n FROM analytics_daily_counts WHERE kind = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day"
        )
        .bind(kind)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
        .db()
        })?;
        Ok(rows.into_iter().map(|(d, n)| (d, count(n))).collect())
    }

    async fn retention(&self, cohort: i32, offsets: &[i32]) -> Result<(u64, Vec<u64>)> {
        let size: i64 = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM analytics_registrations WHERE day = $1"
        )
        .bind(cohort)
        .fetch_one(c)
        .await
        .db())?;
        let mut retained = Vec::with_capacity(offsets.len());
        for offset in offsets {
            let n: i64 = on_db!(&self.db, read, |c| sqlx::query_scalar(
                "SELECT COUNT(*) FROM analytics_registrations r \
                 JOIN analytics_daily_active a ON a.actor = r.actor AND a.day = $2 \
                 WHERE r.day = $1"
            )
            .bind(cohort)
            .bind(cohort + offset)
            .fetch_one(c)
            .await
            .db())?;
            retained.push(count(n));
        }
        Ok((count(size), retained))
    }

    async fn post(&self, post_id: &str) -> Result<Option<(String, i64)>> {
        on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT author, hour FROM analytics_posts WHERE post_id = $1"
        )
        .bind(post_id)
        .fetch_optional(c)
        .await
        .db())
    }

    async fn post_totals(&self, post_id: &str) -> Result<PostTotals> {
        let (impressions, likes, replies, reposts): (i64, i64, i64, i64) =
            on_db!(&self.db, read, |c| sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(impressions), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(likes), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(replies), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(reposts), 0) AS BIGINT) \
                 FROM analytics_post_hours WHERE post_id = $1"
            )
            .bind(post_id)
            .fetch_one(c)
            .await
            .db())?;
        let reach: i64 = on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM analytics_post_viewers WHERE post_id = $1"
        )
        .bind(post_id)
        .fetch_one(c)
        .await
        .db())?;
        Ok(PostTotals {
            impressions: count(impressions),
            reach: count(reach),
            likes,
            replies,
            reposts,
        })
    }

    async fn post_series(&self, post_id: &str, from: i64, to: i64) -> Result<Vec<(i64, u64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT hour, impressions, likes + replies + reposts FROM analytics_post_hours \
             WHERE post_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour"
        )
        .bind(post_id)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
        .db())?;
        Ok(rows.into_iter().map(|(h, i, e)| (h, count(i), e)).collect())
    }

    async fn follower_days(&self, user: &str, from: i32, to: i32) -> Result<Vec<(i32, u64, u64)>> {
        let rows: Vec<(i32, i64, i64)> = on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT day, gained, lost FROM analytics_follower_days \
             WHERE account = $1 AND day >= $2 AND day <= $3 ORDER BY day"
        )
        .bind(user)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
        .db())?;
        Ok(rows
            .into_iter()
            .map(|(d, g, l)| (d, count(g), count(l)))
            .collect())
    }

    async fn top_posts(&self, author: &str, since: i64, limit: u32) -> Result<Vec<PostRank>> {
        let rows: Vec<(String, i64, i64, i64)> = on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT p.post_id, \
             CAST(COALESCE(SUM(h.impressions), 0) AS BIGINT) AS imp, \
             CAST(COALESCE(SUM(h.likes + h.replies + h.reposts), 0) AS BIGINT) AS eng, \
             (SELECT COUNT(*) FROM analytics_post_viewers v WHERE v.post_id = p.post_id) AS reach \
             FROM analytics_posts p LEFT JOIN analytics_post_hours h ON h.post_id = p.post_id \
             WHERE p.author = $1 AND p.hour >= $2 \
             GROUP BY p.post_id ORDER BY eng DESC, imp DESC, p.post_id LIMIT $3"
        )
        .bind(author)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .db())?;
        Ok(rows
            .into_iter()
            .map(|(post_id, imp, engagements, reach)| PostRank {
                post_id,
                impressions: count(imp),
                reach: count(reach),
                engagements,
            })
            .collect())
    }

    async fn forget(&self, user: &str, pseudonym: &str) -> Result<u64> {
        const UPDATES: [&str; 7] = [
            "UPDATE analytics_events SET actor = $2 WHERE actor = $1",
            "UPDATE analytics_events SET target = $2 WHERE target = $1",
            "UPDATE analytics_daily_active SET actor = $2 WHERE actor = $1",
            "UPDATE analytics_registrations SET actor = $2 WHERE actor = $1",
            "UPDATE analytics_posts SET author = $2 WHERE author = $1",
            "UPDATE analytics_post_viewers SET viewer = $2 WHERE viewer = $1",
            "DELETE FROM analytics_follower_days WHERE account = $1 OR account = $2",
        ];
        let changed = on_db!(&self.db, tx, |tx| {
            let mut changed = 0;
            for (i, sql) in UPDATES.into_iter().enumerate() {
                let n = sqlx::query(sql)
                    .bind(user)
                    .bind(pseudonym)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                if i < 2 {
                    changed += n;
                }
            }
            changed
        });
        Ok(changed)
    }

    async fn expire(&self, before: i32) -> Result<()> {
        on_db!(&self.db, write, |c| sqlx::query(
            "DELETE FROM analytics_events WHERE day < $1"
        )
        .bind(before)
        .execute(c)
        .await
        .db()
        .map(|_| ()))
    }
}
