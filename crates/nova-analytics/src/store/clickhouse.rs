//! [`AnalyticsStore`] in ClickHouse: raw events in a `MergeTree` partitioned by day
//! (retention drops whole day partitions), rollups in `AggregatingMergeTree` tables fed
//! by materialized views as each block is inserted (daily active accounts, events per day
//! and kind, posts per hour, followers per day), and a `ReplacingMergeTree` of seen
//! ids ordered by id, asked before each insert so a replay counts once.
//!
//! The SQL keeps to what ClickHouse 18.16 (Debian's package, what CI starts) accepts:
//! no `TTL` clause (retention is [`expire`](AnalyticsStore::expire)'s `DROP PARTITION`),
//! mutations (`ALTER … UPDATE/DELETE`) awaited through `system.mutations`, and the
//! client skips schema validation (plain `RowBinary`). Any later server accepts it too.
//!
//! One writer per database is assumed for deduplication (the service's single flusher);
//! replicas writing the same ids at the same instant could both pass the check.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use nova_core::{Error, Result};
use serde::Serialize;

use super::AnalyticsStore;
use crate::model::{Event, PostRank, PostTotals};

/// Ids asked per dedup query.
const LOOKUP: usize = 5_000;

const SCHEMA: [&str; 12] = [
    "CREATE TABLE IF NOT EXISTS analytics_events (
        id String, at_us Int64, day Date, kind String, actor String,
        post_id String, target String, sign Int8
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (kind, post_id, at_us)",
    "CREATE TABLE IF NOT EXISTS analytics_seen (id String, day Date)
     ENGINE = ReplacingMergeTree PARTITION BY day ORDER BY id",
    "CREATE TABLE IF NOT EXISTS analytics_posts (post_id String, author String, hour Int64)
     ENGINE = ReplacingMergeTree ORDER BY post_id",
    "CREATE TABLE IF NOT EXISTS analytics_daily_active (
        day Date, users AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY day",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS analytics_daily_active_mv TO analytics_daily_active
     AS SELECT day, uniqExactState(actor) AS users FROM analytics_events
     WHERE actor != '' AND NOT startsWith(actor, 'anon:') GROUP BY day",
    "CREATE TABLE IF NOT EXISTS analytics_daily_counts (
        day Date, kind String, n AggregateFunction(count)
    ) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (kind, day)",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS analytics_daily_counts_mv TO analytics_daily_counts
     AS SELECT day, kind, countState() AS n FROM analytics_events GROUP BY day, kind",
    "CREATE TABLE IF NOT EXISTS analytics_post_hours (
        post_id String, hour Int64,
        impressions AggregateFunction(countIf, UInt8),
        reach AggregateFunction(uniqExactIf, String, UInt8),
        likes AggregateFunction(sumIf, Int64, UInt8),
        replies AggregateFunction(sumIf, Int64, UInt8),
        reposts AggregateFunction(sumIf, Int64, UInt8)
    ) ENGINE = AggregatingMergeTree ORDER BY (post_id, hour)",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS analytics_post_hours_mv TO analytics_post_hours
     AS SELECT post_id, intDiv(at_us, 3600000000) AS hour,
        countIfState(kind = 'impression') AS impressions,
        uniqExactIfState(actor, kind = 'impression') AS reach,
        sumIfState(toInt64(sign), kind = 'like') AS likes,
        sumIfState(toInt64(sign), kind = 'reply') AS replies,
        sumIfState(toInt64(sign), kind = 'repost') AS reposts
     FROM analytics_events WHERE post_id != '' AND kind IN ('impression', 'like', 'reply', 'repost', 'post')
     GROUP BY post_id, hour",
    "CREATE TABLE IF NOT EXISTS analytics_follower_days (
        account String, day Date,
        gained AggregateFunction(sum, UInt64), lost AggregateFunction(sum, UInt64)
    ) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (account, day)",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS analytics_follower_days_mv TO analytics_follower_days
     AS SELECT target AS account, day,
        sumState(toUInt64(sign > 0)) AS gained, sumState(toUInt64(sign < 0)) AS lost
     FROM analytics_events WHERE kind = 'follow' AND target != '' GROUP BY account, day",
    // Not keyed by actor, so a deleted account's id can be rewritten in place.
    "CREATE TABLE IF NOT EXISTS analytics_registrations (actor String, day Date)
     ENGINE = MergeTree ORDER BY day",
];

#[derive(Debug, Row, Serialize)]
struct EventRow<'a> {
    id: &'a str,
    at_us: i64,
    day: u16,
    kind: &'a str,
    actor: &'a str,
    post_id: &'a str,
    target: &'a str,
    sign: i8,
}

#[derive(Debug, Row, Serialize)]
struct SeenRow<'a> {
    id: &'a str,
    day: u16,
}

#[derive(Debug, Row, Serialize)]
struct PostRow<'a> {
    post_id: &'a str,
    author: &'a str,
    hour: i64,
}

#[derive(Debug, Row, Serialize)]
struct RegistrationRow<'a> {
    actor: &'a str,
    day: u16,
}

fn unavailable(e: clickhouse::error::Error) -> Error {
    Error::unavailable(e)
}

fn date(day: i32) -> u16 {
    u16::try_from(day.max(0)).unwrap_or(u16::MAX)
}

fn day(date: u16) -> i32 {
    i32::from(date)
}

/// Analytics in ClickHouse.
#[derive(Clone)]
pub struct ClickHouseAnalyticsStore {
    client: Client,
}

impl std::fmt::Debug for ClickHouseAnalyticsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseAnalyticsStore")
            .finish_non_exhaustive()
    }
}

impl ClickHouseAnalyticsStore {
    /// Connects to the HTTP interface at `url` (e.g. `http://127.0.0.1:8123`), database
    /// `database` (created if missing), and creates the tables and views if missing.
    pub async fn connect(url: &str, database: &str) -> Result<Self> {
        if database.is_empty()
            || !database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::invalid(
                "CLICKHOUSE_URL",
                "the database name must be letters, digits and underscores",
            ));
        }
        let admin = Client::default().with_url(url).with_validation(false);
        admin
            .query(&format!("CREATE DATABASE IF NOT EXISTS {database}"))
            .execute()
            .await
            .map_err(unavailable)?;
        let client = admin.with_database(database);
        for ddl in SCHEMA {
            client.query(ddl).execute().await.map_err(unavailable)?;
        }
        Ok(Self { client })
    }

    /// Whether the server answers.
    pub async fn ping(&self) -> Result<()> {
        self.client
            .query("SELECT 1")
            .execute()
            .await
            .map_err(unavailable)
    }

    /// The ids of `ids` already stored.
    async fn seen(&self, ids: &[&str]) -> Result<HashSet<String>> {
        let mut seen = HashSet::new();
        for chunk in ids.chunks(LOOKUP) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut q = self.client.query(&format!(
                "SELECT id FROM analytics_seen WHERE id IN ({marks})"
            ));
            for id in chunk {
                q = q.bind(*id);
            }
            let found: Vec<String> = q.fetch_all().await.map_err(unavailable)?;
            seen.extend(found);
        }
        Ok(seen)
    }

    /// Waits for this database's mutations (`ALTER … UPDATE/DELETE`) to finish.
    async fn settle(&self) -> Result<()> {
        for _ in 0..600 {
            let pending: u64 = self
                .client
                .query(
                    "SELECT count() FROM system.mutations \
                     WHERE database = currentDatabase() AND is_done = 0",
                )
                .fetch_one()
                .await
                .map_err(unavailable)?;
            if pending == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Error::unavailable(
            "ClickHouse mutations did not finish within 30 s",
        ))
    }

    async fn execute(&self, sql: &str, binds: &[&str]) -> Result<()> {
        let mut q = self.client.query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute().await.map_err(unavailable)
    }
}

#[async_trait]
impl AnalyticsStore for ClickHouseAnalyticsStore {
    async fn insert(&self, events: &[Event]) -> Result<u64> {
        let mut in_batch = HashSet::with_capacity(events.len());
        let unique: Vec<&Event> = events
            .iter()
            .filter(|e| in_batch.insert(e.id.as_str()))
            .collect();
        if unique.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = unique.iter().map(|e| e.id.as_str()).collect();
        let seen = self.seen(&ids).await?;
        let new: Vec<&Event> = unique
            .into_iter()
            .filter(|e| !seen.contains(&e.id))
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        // Events first: a failure before the seen ids are written can at worst store a
        // retried batch twice, never lose it.
        let mut insert = self
            .client
            .insert::<EventRow<'_>>("analytics_events")
            .await
            .map_err(unavailable)?;
        for e in &new {
            insert
                .write(&EventRow {
                    id: &e.id,
                    at_us: e.at.timestamp_micros(),
                    day: date(e.day()),
                    kind: e.kind.as_str(),
                    actor: &e.actor,
                    post_id: &e.post_id,
                    target: &e.target,
                    sign: e.sign,
                })
                .await
                .map_err(unavailable)?;
        }
        insert.end().await.map_err(unavailable)?;
        let posts: Vec<&&Event> = new
            .iter()
            .filter(|e| e.kind == crate::model::EventKind::Post)
            .collect();
        if !posts.is_empty() {
            let mut insert = self
                .client
                .insert::<PostRow<'_>>("analytics_posts")
                .await
                .map_err(unavailable)?;
            for e in posts {
                insert
                    .write(&PostRow {
                        post_id: &e.post_id,
                        author: &e.actor,
                        hour: e.hour(),
                    })
                    .await
                    .map_err(unavailable)?;
            }
            insert.end().await.map_err(unavailable)?;
        }
        let registered: Vec<&&Event> = new
            .iter()
            .filter(|e| e.kind == crate::model::EventKind::Registered)
            .collect();
        if !registered.is_empty() {
            let mut insert = self
                .client
                .insert::<RegistrationRow<'_>>("analytics_registrations")
                .await
                .map_err(unavailable)?;
            for e in registered {
                insert
                    .write(&RegistrationRow {
                        actor: &e.actor,
                        day: date(e.day()),
                    })
                    .await
                    .map_err(unavailable)?;
            }
            insert.end().await.map_err(unavailable)?;
        }
        let mut insert = self
            .client
            .insert::<SeenRow<'_>>("analytics_seen")
            .await
            .map_err(unavailable)?;
        for e in &new {
            insert
                .write(&SeenRow {
                    id: &e.id,
                    day: date(e.day()),
                })
                .await
                .map_err(unavailable)?;
        }
        insert.end().await.map_err(unavailable)?;
        Ok(new.len() as u64)
    }

    async fn daily_active(&self, from: i32, to: i32) -> Result<Vec<(i32, u64)>> {
        let rows: Vec<(u16, u64)> = self
            .client
            .query(
                "SELECT day, uniqExactMerge(users) FROM analytics_daily_active \
                 WHERE day >= toDate(?) AND day <= toDate(?) GROUP BY day ORDER BY day",
            )
            .bind(date(from))
            .bind(date(to))
            .fetch_all()
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(|(d, n)| (day(d), n)).collect())
    }

    async fn active_between(&self, from: i32, to: i32) -> Result<u64> {
        self.client
            .query(
                "SELECT uniqExactMerge(users) FROM analytics_daily_active \
                 WHERE day >= toDate(?) AND day <= toDate(?)",
            )
            .bind(date(from))
            .bind(date(to))
            .fetch_one()
            .await
            .map_err(unavailable)
    }

    async fn daily_count(&self, kind: &str, from: i32, to: i32) -> Result<Vec<(i32, u64)>> {
        let rows: Vec<(u16, u64)> = self
            .client
            .query(
                "SELECT day, countMerge(n) FROM analytics_daily_counts \
                 WHERE kind = ? AND day >= toDate(?) AND day <= toDate(?) GROUP BY day ORDER BY day",
            )
            .bind(kind)
            .bind(date(from))
            .bind(date(to))
            .fetch_all()
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(|(d, n)| (day(d), n)).collect())
    }

    async fn retention(&self, cohort: i32, offsets: &[i32]) -> Result<(u64, Vec<u64>)> {
        let size: u64 = self
            .client
            .query("SELECT uniqExact(actor) FROM analytics_registrations WHERE day = toDate(?)")
            .bind(date(cohort))
            .fetch_one()
            .await
            .map_err(unavailable)?;
        let mut retained = Vec::with_capacity(offsets.len());
        for offset in offsets {
            let n: u64 = self
                .client
                .query(
                    "SELECT uniqExact(actor) FROM analytics_events \
                     WHERE day = toDate(?) AND actor IN \
                     (SELECT actor FROM analytics_registrations WHERE day = toDate(?))",
                )
                .bind(date(cohort + offset))
                .bind(date(cohort))
                .fetch_one()
                .await
                .map_err(unavailable)?;
            retained.push(n);
        }
        Ok((size, retained))
    }

    async fn post(&self, post_id: &str) -> Result<Option<(String, i64)>> {
        let rows: Vec<(String, i64)> = self
            .client
            .query("SELECT author, hour FROM analytics_posts FINAL WHERE post_id = ? LIMIT 1")
            .bind(post_id)
            .fetch_all()
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().next())
    }

    async fn post_totals(&self, post_id: &str) -> Result<PostTotals> {
        let (impressions, reach, likes, replies, reposts): (u64, u64, i64, i64, i64) = self
            .client
            .query(
                "SELECT countIfMerge(impressions), uniqExactIfMerge(reach), \
                 sumIfMerge(likes), sumIfMerge(replies), sumIfMerge(reposts) \
                 FROM analytics_post_hours WHERE post_id = ?",
            )
            .bind(post_id)
            .fetch_one()
            .await
            .map_err(unavailable)?;
        Ok(PostTotals {
            impressions,
            reach,
            likes,
            replies,
            reposts,
        })
    }

    async fn post_series(&self, post_id: &str, from: i64, to: i64) -> Result<Vec<(i64, u64, i64)>> {
        self.client
            .query(
                "SELECT hour, countIfMerge(impressions), \
                 sumIfMerge(likes) + sumIfMerge(replies) + sumIfMerge(reposts) \
                 FROM analytics_post_hours WHERE post_id = ? AND hour >= ? AND hour < ? \
                 GROUP BY hour ORDER BY hour",
            )
            .bind(post_id)
            .bind(from)
            .bind(to)
            .fetch_all()
            .await
            .map_err(unavailable)
    }

    async fn follower_days(&self, user: &str, from: i32, to: i32) -> Result<Vec<(i32, u64, u64)>> {
        let rows: Vec<(u16, u64, u64)> = self
            .client
            .query(
                "SELECT day, sumMerge(gained), sumMerge(lost) FROM analytics_follower_days \
                 WHERE account = ? AND day >= toDate(?) AND day <= toDate(?) \
                 GROUP BY day ORDER BY day",
            )
            .bind(user)
            .bind(date(from))
            .bind(date(to))
            .fetch_all()
            .await
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(|(d, g, l)| (day(d), g, l)).collect())
    }

    async fn top_posts(&self, author: &str, since: i64, limit: u32) -> Result<Vec<PostRank>> {
        let rows: Vec<(String, u64, u64, i64)> = self
            .client
            .query(
                "SELECT post_id, countIfMerge(impressions) AS imp, uniqExactIfMerge(reach), \
                 sumIfMerge(likes) + sumIfMerge(replies) + sumIfMerge(reposts) AS eng \
                 FROM analytics_post_hours WHERE post_id IN \
                 (SELECT post_id FROM analytics_posts FINAL WHERE author = ? AND hour >= ?) \
                 GROUP BY post_id ORDER BY eng DESC, imp DESC, post_id LIMIT ?",
            )
            .bind(author)
            .bind(since)
            .bind(limit)
            .fetch_all()
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(post_id, impressions, reach, engagements)| PostRank {
                post_id,
                impressions,
                reach,
                engagements,
            })
            .collect())
    }

    async fn forget(&self, user: &str, pseudonym: &str) -> Result<u64> {
        self.execute(
            "ALTER TABLE analytics_events UPDATE actor = ? WHERE actor = ?",
            &[pseudonym, user],
        )
        .await?;
        self.execute(
            "ALTER TABLE analytics_events UPDATE target = ? WHERE target = ?",
            &[pseudonym, user],
        )
        .await?;
        self.execute(
            "ALTER TABLE analytics_posts UPDATE author = ? WHERE author = ?",
            &[pseudonym, user],
        )
        .await?;
        self.execute(
            "ALTER TABLE analytics_registrations UPDATE actor = ? WHERE actor = ?",
            &[pseudonym, user],
        )
        .await?;
        self.execute(
            "ALTER TABLE analytics_follower_days DELETE WHERE account = ?",
            &[user],
        )
        .await?;
        self.settle().await?;
        Ok(0)
    }

    async fn expire(&self, before: i32) -> Result<()> {
        // Both are partitioned by day: whole days go, the seen ids with their events.
        for table in ["analytics_events", "analytics_seen"] {
            let partitions: Vec<String> = self
                .client
                .query(
                    "SELECT DISTINCT partition FROM system.parts \
                     WHERE database = currentDatabase() AND table = ? AND active \
                     AND max_date < toDate(?)",
                )
                .bind(table)
                .bind(date(before))
                .fetch_all()
                .await
                .map_err(unavailable)?;
            for p in partitions {
                self.execute(&format!("ALTER TABLE {table} DROP PARTITION ?"), &[&p])
                    .await?;
            }
        }
        Ok(())
    }
}
