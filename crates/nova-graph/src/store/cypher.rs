//! [`GraphStore`] on a Cypher engine: one set of queries (`queries.rs`) over a
//! [`CypherTransport`]: [`FalkorTransport`] (FalkorDB over the Redis protocol) or, with
//! the `neo4j` feature, `Neo4jTransport` (Neo4j 5 over Bolt).
//!
//! **Events.** The graph lives outside the SQL database, so no transaction spans both.
//! When built with an outbox ([`CypherGraphStore::with_outbox`]), each write appends its
//! events to the SQL outbox **after** the Cypher write succeeded. If the process dies (or
//! the SQL write fails) between the two, that change's events are lost: delivery is
//! *at most once* for that window, unlike the SQL backend's exactly-once-into-the-outbox.
//! The graph is the source of truth; consumers that must not miss a change (e.g. a
//! feed's follow list) should re-read the graph when they start. The failed append is
//! reported as an error to the caller, whose retry is then a no-op that emits nothing.
//!
//! **Counts** are `followers` / `following` properties on the user nodes, changed in the
//! same query as the edge and only when the edge was created or deleted.

mod falkordb;
#[cfg(feature = "neo4j")]
mod neo4j;
mod queries;

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_events::{EventEnvelope, OutboxStore};

pub use self::falkordb::FalkorTransport;
#[cfg(feature = "neo4j")]
pub use self::neo4j::Neo4jTransport;
use self::queries::Cypher;
use super::{EdgeList, GraphStore, Position};
use crate::events;
use crate::model::{CountDrift, FollowCounts, MuteSettings, Relationship, Suggestion};

/// A query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A list of strings.
    StrList(Vec<String>),
}

/// A value in a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// Anything else (nodes, floats, ...): the store never asks for these.
    Other(String),
}

impl Value {
    fn int(&self) -> Result<i64> {
        match self {
            Value::Int(n) => Ok(*n),
            Value::Null => Ok(0),
            other => Err(Error::internal(format!(
                "expected an integer, got {other:?}"
            ))),
        }
    }

    fn opt_int(&self) -> Result<Option<i64>> {
        match self {
            Value::Null => Ok(None),
            other => other.int().map(Some),
        }
    }

    fn user(&self) -> Result<UserId> {
        match self {
            Value::Str(s) => UserId::parse_field(s, "id").map_err(Error::internal),
            other => Err(Error::internal(format!(
                "expected a user id, got {other:?}"
            ))),
        }
    }
}

/// Runs one Cypher query with named parameters and returns its rows.
#[async_trait]
pub trait CypherTransport: Send + Sync {
    /// Runs `query` (a write unless `read_only`); each row holds the values of `columns`
    /// (the query's `RETURN` aliases) in that order.
    async fn run(
        &self,
        query: &str,
        columns: &[&str],
        params: Vec<(&'static str, Param)>,
        read_only: bool,
    ) -> Result<Vec<Vec<Value>>>;
    /// Creates the engine's index / uniqueness constraint on `User.id` if missing.
    async fn ensure_schema(&self) -> Result<()>;
}

/// The graph store over a Cypher engine.
#[derive(Clone)]
pub struct CypherGraphStore {
    transport: Arc<dyn CypherTransport>,
    outbox: Option<Arc<dyn OutboxStore>>,
}

impl std::fmt::Debug for CypherGraphStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CypherGraphStore")
            .field("outbox", &self.outbox.is_some())
            .finish_non_exhaustive()
    }
}

fn micros(t: Timestamp) -> Param {
    Param::Int(t.timestamp_micros())
}

fn from_micros(m: i64) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp_micros(m)
        .ok_or_else(|| Error::internal(format!("timestamp out of range: {m}")))
}

fn pair(a: UserId, b: UserId, now: Timestamp) -> Vec<(&'static str, Param)> {
    vec![
        ("a", Param::Str(a.to_string())),
        ("b", Param::Str(b.to_string())),
        ("at", micros(now)),
    ]
}

fn cell(rows: &[Vec<Value>], row: usize, col: usize) -> Result<&Value> {
    rows.get(row)
        .and_then(|r| r.get(col))
        .ok_or_else(|| Error::internal("the graph returned fewer columns than asked"))
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl CypherGraphStore {
    /// Over `transport`, creating the schema (index on `User.id`) if missing. Events are
    /// not written anywhere until [`with_outbox`](Self::with_outbox).
    pub async fn new(transport: Arc<dyn CypherTransport>) -> Result<Self> {
        transport.ensure_schema().await?;
        Ok(Self {
            transport,
            outbox: None,
        })
    }

    /// Appends each write's events to `outbox` after the graph write (see the module docs
    /// for the at-most-once window).
    pub fn with_outbox(mut self, outbox: Arc<dyn OutboxStore>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    async fn write(
        &self,
        query: Cypher,
        params: Vec<(&'static str, Param)>,
    ) -> Result<Vec<Vec<Value>>> {
        self.transport
            .run(query.text, query.columns, params, false)
            .await
    }

    async fn read(
        &self,
        query: Cypher,
        params: Vec<(&'static str, Param)>,
    ) -> Result<Vec<Vec<Value>>> {
        self.transport
            .run(query.text, query.columns, params, true)
            .await
    }

    async fn emit(&self, events: &[EventEnvelope]) -> Result<()> {
        match &self.outbox {
            Some(outbox) if !events.is_empty() => outbox.append(events).await,
            _ => Ok(()),
        }
    }

    async fn removed(&self, query: Cypher, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        let rows = self.write(query, pair(a, b, now)).await?;
        Ok(cell(&rows, 0, 0)?.int()? > 0)
    }
}

#[async_trait]
impl GraphStore for CypherGraphStore {
    async fn follow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let rows = self
            .write(queries::FOLLOW, pair(follower, followee, now))
            .await?;
        if cell(&rows, 0, 0)?.int()? > 0 {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "a block between these users forbids following",
            ));
        }
        let created = cell(&rows, 0, 1)?.int()? == 0;
        if created {
            // A block written concurrently may have missed this edge: look again.
            if self
                .removed(queries::FOLLOW_RECHECK, follower, followee, now)
                .await?
            {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    "a block between these users forbids following",
                ));
            }
            self.emit(&[events::follow_created(follower, followee, now)])
                .await?;
        }
        Ok(created)
    }

    async fn unfollow(&self, follower: UserId, followee: UserId, now: Timestamp) -> Result<bool> {
        let removed = self
            .removed(queries::UNFOLLOW, follower, followee, now)
            .await?;
        if removed {
            self.emit(&[events::follow_removed(follower, followee, "unfollow", now)])
                .await?;
        }
        Ok(removed)
    }

    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let rows = self
            .write(queries::BLOCK, pair(blocker, blocked, now))
            .await?;
        let created = cell(&rows, 0, 0)?.int()? == 0;
        let mut events = Vec::new();
        if created {
            events.push(events::block_created(blocker, blocked, now));
        }
        if cell(&rows, 0, 1)?.int()? > 0 {
            events.push(events::follow_removed(blocker, blocked, "block", now));
        }
        if cell(&rows, 0, 2)?.int()? > 0 {
            events.push(events::follow_removed(blocked, blocker, "block", now));
        }
        self.emit(&events).await?;
        Ok(created)
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<bool> {
        let removed = self
            .removed(queries::UNBLOCK, blocker, blocked, now)
            .await?;
        if removed {
            self.emit(&[events::block_removed(blocker, blocked, now)])
                .await?;
        }
        Ok(removed)
    }

    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        settings: MuteSettings,
        now: Timestamp,
    ) -> Result<bool> {
        let mut params = pair(muter, muted, now);
        params.push(("until", settings.until.map_or(Param::Null, micros)));
        params.push(("reposts_only", Param::Bool(settings.reposts_only)));
        let rows = self.write(queries::MUTE, params).await?;
        let old_at = cell(&rows, 0, 0)?.opt_int()?;
        let old_until = cell(&rows, 0, 1)?.opt_int()?;
        let old_reposts = matches!(cell(&rows, 0, 2)?, Value::Bool(true));
        let was_active = old_at.is_some() && old_until.is_none_or(|u| u > now.timestamp_micros());
        let unchanged = was_active
            && old_until == settings.until.map(|t| t.timestamp_micros())
            && old_reposts == settings.reposts_only;
        if !unchanged {
            self.emit(&[events::mute_created(muter, muted, settings, now)])
                .await?;
        }
        Ok(!was_active)
    }

    async fn unmute(&self, muter: UserId, muted: UserId, now: Timestamp) -> Result<bool> {
        let removed = self.removed(queries::UNMUTE, muter, muted, now).await?;
        if removed {
            self.emit(&[events::mute_removed(muter, muted, now)])
                .await?;
        }
        Ok(removed)
    }

    async fn relationships(
        &self,
        pairs: &[(UserId, UserId)],
        now: Timestamp,
    ) -> Result<Vec<Relationship>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let params = vec![
            (
                "froms",
                Param::StrList(pairs.iter().map(|(a, _)| a.to_string()).collect()),
            ),
            (
                "tos",
                Param::StrList(pairs.iter().map(|(_, b)| b.to_string()).collect()),
            ),
            ("now", micros(now)),
        ];
        let rows = self.read(queries::RELATIONSHIPS, params).await?;
        let mut out: Vec<Relationship> = pairs
            .iter()
            .map(|&(from, to)| Relationship {
                from,
                to,
                ..Relationship::default()
            })
            .collect();
        for row in &rows {
            let [
                i,
                following,
                followed_by,
                blocking,
                blocked_by,
                muting,
                reposts,
            ] = &row[..]
            else {
                return Err(Error::internal("relationships: unexpected row shape"));
            };
            if let Some(r) = usize::try_from(i.int()?).ok().and_then(|i| out.get_mut(i)) {
                r.following = following.int()? > 0;
                r.followed_by = followed_by.int()? > 0;
                r.blocking = blocking.int()? > 0;
                r.blocked_by = blocked_by.int()? > 0;
                r.muting = muting.int()? > 0;
                r.muting_reposts_only = reposts.int()? > 0;
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
        let mut params = vec![
            ("u", Param::Str(user.to_string())),
            ("limit", Param::Int(i64::from(limit))),
        ];
        if let Some((at, id)) = after {
            params.push(("at", micros(at)));
            params.push(("id", Param::Str(id.to_string())));
        }
        let text = queries::list(list, after.is_some());
        let rows = self
            .transport
            .run(&text, queries::LIST_COLUMNS, params, true)
            .await?;
        rows.iter()
            .map(|row| match &row[..] {
                [id, at] => Ok((from_micros(at.int()?)?, id.user()?)),
                _ => Err(Error::internal("list: unexpected row shape")),
            })
            .collect()
    }

    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids = Param::StrList(users.iter().map(ToString::to_string).collect());
        let rows = self.read(queries::COUNTS, vec![("ids", ids)]).await?;
        let mut out: Vec<FollowCounts> = users
            .iter()
            .map(|&user| FollowCounts {
                user,
                followers: 0,
                following: 0,
            })
            .collect();
        for row in &rows {
            let [i, followers, following] = &row[..] else {
                return Err(Error::internal("counts: unexpected row shape"));
            };
            if let Some(c) = usize::try_from(i.int()?).ok().and_then(|i| out.get_mut(i)) {
                c.followers = unsigned(followers.int()?);
                c.following = unsigned(following.int()?);
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
        let params = vec![
            ("u", Param::Str(user.to_string())),
            ("now", micros(now)),
            ("limit", Param::Int(i64::from(limit))),
        ];
        let rows = self.read(queries::SUGGESTIONS, params).await?;
        rows.iter()
            .map(|row| match &row[..] {
                [id, n] => Ok(Suggestion {
                    user: id.user()?,
                    mutual_connections: unsigned(n.int()?),
                }),
                _ => Err(Error::internal("suggestions: unexpected row shape")),
            })
            .collect()
    }

    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        let rows = self
            .read(
                queries::BLOCKED_EITHER_WAY,
                vec![("u", Param::Str(user.to_string()))],
            )
            .await?;
        rows.iter()
            .map(|row| cell(std::slice::from_ref(row), 0, 0)?.user())
            .collect()
    }

    async fn count_drift(&self) -> Result<Vec<CountDrift>> {
        let rows = self.read(queries::COUNT_AUDIT, Vec::new()).await?;
        let mut out = Vec::new();
        for row in &rows {
            let [id, sf, sg, af, ag] = &row[..] else {
                return Err(Error::internal("count audit: unexpected row shape"));
            };
            let stored = (unsigned(sf.int()?), unsigned(sg.int()?));
            let actual = (unsigned(af.int()?), unsigned(ag.int()?));
            if stored != actual || sf.int()? < 0 || sg.int()? < 0 {
                out.push(CountDrift {
                    user: id.user()?,
                    stored,
                    actual,
                });
            }
        }
        Ok(out)
    }
}
