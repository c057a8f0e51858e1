//! Timelines in Redis sorted sets, every write pipelined.
//!
//! One sorted set per timeline, `{prefix}feed:h:{user}` (home) or `{prefix}feed:a:{user}`
//! (an author's own posts). Every member has score 0, so the set orders by member bytes:
//! a member is the post id then the author id, 32 lowercase hex digits each, and UUIDv7
//! post ids sort by creation time. Pages are `ZRANGE … BYLEX REV` below the cursor's post
//! id. The empty member `""` sorts first and marks the timeline materialised: it lives in
//! the same key, so a flush or an eviction loses marker and entries together. Trimming
//! (`ZREMRANGEBYRANK key 1 -(cap+1)`) starts at rank 1 and never drops the marker.
//! Home visits live in one hash, pulled authors in one set.
//!
//! Fan-out runs a small Lua script per chunk of 1,000 timelines (chunks sent
//! concurrently on the multiplexed connection): for each key that holds the marker, `ZADD`
//! then the trim. One script call replaces 2,000 pipelined commands, so Redis parses and
//! answers 1 request instead of 2,000, and absent timelines get nothing. The keys of one
//! call may live on different hash slots, so this needs a single Redis (or a proxy), not
//! Redis Cluster.

use async_trait::async_trait;
use nova_core::id::Uuid;
use nova_core::{Error, ErrorKind, PostId, Result, Timestamp, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Pipeline, RedisError, Script, cmd, pipe};
use std::time::Duration;

use super::{Entry, TimelineKey, TimelineStore};

const TIMEOUT: Duration = Duration::from_secs(2);
const MARKER: &str = "";
/// Fields per `HMGET` / members per `SMISMEMBER`.
const CHUNK: usize = 1000;

/// `KEYS` = timelines, `ARGV[1]` = member, `ARGV[2]` = trim stop rank. Materialised
/// timelines only (they hold the marker `""`).
const PUSH: &str = r#"
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('ZSCORE', key, '') then
    redis.call('ZADD', key, 0, ARGV[1])
    redis.call('ZREMRANGEBYRANK', key, 1, tonumber(ARGV[2]))
    n = n + 1
  end
end
return n
"#;

/// Timelines in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisTimelineStore {
    conn: ConnectionManager,
    prefix: String,
    push: std::sync::Arc<Script>,
}

impl std::fmt::Debug for RedisTimelineStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTimelineStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(err: RedisError) -> Error {
    let kind = if err.is_io_error() || err.is_timeout() || err.is_connection_dropped() {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Internal
    };
    Error::from_kind(kind).with_source(err)
}

fn member(entry: &Entry) -> String {
    let mut m = String::with_capacity(64);
    m.push_str(
        entry
            .post
            .as_uuid()
            .simple()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    m.push_str(
        entry
            .author
            .as_uuid()
            .simple()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    m
}

fn parse_member(m: &str) -> Result<Entry> {
    let bad = || Error::internal(format!("timeline member {m:?} is not post id + author id"));
    if m.len() != 64 {
        return Err(bad());
    }
    let post = Uuid::try_parse(&m[..32]).map_err(|_| bad())?;
    let author = Uuid::try_parse(&m[32..]).map_err(|_| bad())?;
    Ok(Entry::new(
        PostId::from_uuid(post),
        UserId::from_uuid(author),
    ))
}

fn post_bound(post: PostId) -> String {
    let mut b = String::with_capacity(33);
    b.push('(');
    b.push_str(
        post.as_uuid()
            .simple()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    b
}

/// `-(cap + 1)`: the stop rank of a trim that keeps the marker and the newest `cap`.
fn trim_stop(cap: usize) -> i64 {
    -(i64::try_from(cap).unwrap_or(i64::MAX - 1) + 1)
}

impl RedisTimelineStore {
    /// Connects to `url`, every key under `key_prefix`; fails if the server does not answer.
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| Error::invalid("redis_url", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(backend)?;
        let store = Self {
            conn,
            prefix: key_prefix.to_owned(),
            push: std::sync::Arc::new(Script::new(PUSH)),
        };
        cmd("PING")
            .query_async::<()>(&mut store.conn())
            .await
            .map_err(backend)?;
        Ok(store)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn key(&self, timeline: &TimelineKey) -> String {
        let (kind, user) = match timeline {
            TimelineKey::Home(u) => ("h:", u),
            TimelineKey::Author(u) => ("a:", u),
        };
        let mut k = String::with_capacity(self.prefix.len() + 7 + 32);
        k.push_str(&self.prefix);
        k.push_str("feed:");
        k.push_str(kind);
        k.push_str(
            user.as_uuid()
                .simple()
                .encode_lower(&mut Uuid::encode_buffer()),
        );
        k
    }

    fn visits_key(&self) -> String {
        format!("{}feed:visits", self.prefix)
    }

    fn pulled_key(&self) -> String {
        format!("{}feed:pulled", self.prefix)
    }

    /// `ZADD` then the trim. An absent timeline may collect entries this way, but without
    /// the marker it still reads as absent and is replaced on rebuild.
    fn add(p: &mut Pipeline, key: &str, members: &[String], cap: usize) {
        let mut zadd = cmd("ZADD");
        zadd.arg(key);
        for m in members {
            zadd.arg(0).arg(m);
        }
        p.add_command(zadd).ignore();
        p.cmd("ZREMRANGEBYRANK")
            .arg(key)
            .arg(1)
            .arg(trim_stop(cap))
            .ignore();
    }
}

#[async_trait]
impl TimelineStore for RedisTimelineStore {
    async fn push(&self, timelines: &[TimelineKey], entry: Entry, cap: usize) -> Result<()> {
        let m = member(&entry);
        let stop = trim_stop(cap);
        let calls = timelines.chunks(CHUNK).map(|chunk| {
            let mut invocation = self.push.prepare_invoke();
            for t in chunk {
                invocation.key(self.key(t));
            }
            invocation.arg(&m).arg(stop);
            let mut conn = self.conn();
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        });
        futures::future::try_join_all(calls)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let members: Vec<String> = entries.iter().map(member).collect();
        let mut p = pipe();
        Self::add(&mut p, &self.key(&timeline), &members, cap);
        p.query_async::<()>(&mut self.conn()).await.map_err(backend)
    }

    async fn rebuild(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        let key = self.key(&timeline);
        let mut members: Vec<String> = entries.iter().map(member).collect();
        members.push(MARKER.to_owned());
        let mut p = pipe();
        p.atomic();
        p.cmd("DEL").arg(&key).ignore();
        Self::add(&mut p, &key, &members, cap);
        p.query_async::<()>(&mut self.conn()).await.map_err(backend)
    }

    async fn page(
        &self,
        timeline: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let key = self.key(&timeline);
        let max = before.map_or_else(|| "+".to_owned(), post_bound);
        let (marker, members): (Option<f64>, Vec<String>) = pipe()
            .cmd("ZSCORE")
            .arg(&key)
            .arg(MARKER)
            .cmd("ZRANGE")
            .arg(&key)
            .arg(max)
            .arg("-")
            .arg("BYLEX")
            .arg("REV")
            .arg("LIMIT")
            .arg(0)
            .arg(limit.saturating_add(1))
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        if marker.is_none() {
            return Ok(None);
        }
        members
            .iter()
            .filter(|m| !m.is_empty())
            .take(limit)
            .map(|m| parse_member(m))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    async fn remove_author(&self, timeline: TimelineKey, author: UserId) -> Result<usize> {
        let key = self.key(&timeline);
        let members: Vec<String> = cmd("ZRANGE")
            .arg(&key)
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        let suffix = author.as_uuid().simple().to_string();
        let gone: Vec<&String> = members
            .iter()
            .filter(|m| m.len() == 64 && m.ends_with(&suffix))
            .collect();
        if gone.is_empty() {
            return Ok(0);
        }
        cmd("ZREM")
            .arg(&key)
            .arg(&gone)
            .query_async::<usize>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn remove(&self, timelines: &[TimelineKey], entry: Entry) -> Result<()> {
        if timelines.is_empty() {
            return Ok(());
        }
        let m = member(&entry);
        let mut p = pipe();
        for t in timelines {
            p.cmd("ZREM").arg(self.key(t)).arg(&m).ignore();
        }
        p.query_async::<()>(&mut self.conn()).await.map_err(backend)
    }

    async fn clear(&self, timeline: TimelineKey) -> Result<()> {
        cmd("DEL")
            .arg(self.key(&timeline))
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn visit(&self, user: UserId, at: Timestamp) -> Result<Option<Timestamp>> {
        let key = self.visits_key();
        let field = user.to_string();
        let (previous,): (Option<i64>,) = pipe()
            .cmd("HGET")
            .arg(&key)
            .arg(&field)
            .cmd("HSET")
            .arg(&key)
            .arg(&field)
            .arg(at.timestamp_micros())
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(previous.and_then(Timestamp::from_timestamp_micros))
    }

    async fn last_visits(&self, users: &[UserId]) -> Result<Vec<Option<Timestamp>>> {
        let key = self.visits_key();
        let mut out = Vec::with_capacity(users.len());
        for chunk in users.chunks(CHUNK) {
            let mut hmget = cmd("HMGET");
            hmget.arg(&key);
            for u in chunk {
                hmget.arg(u.to_string());
            }
            let got: Vec<Option<i64>> =
                hmget.query_async(&mut self.conn()).await.map_err(backend)?;
            out.extend(
                got.into_iter()
                    .map(|v| v.and_then(Timestamp::from_timestamp_micros)),
            );
        }
        Ok(out)
    }

    async fn set_pulled(&self, author: UserId, pulled: bool) -> Result<()> {
        cmd(if pulled { "SADD" } else { "SREM" })
            .arg(self.pulled_key())
            .arg(author.to_string())
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn pulled(&self, authors: &[UserId]) -> Result<Vec<bool>> {
        let key = self.pulled_key();
        let mut out = Vec::with_capacity(authors.len());
        for chunk in authors.chunks(CHUNK) {
            let mut q = cmd("SMISMEMBER");
            q.arg(&key);
            for a in chunk {
                q.arg(a.to_string());
            }
            let got: Vec<bool> = q.query_async(&mut self.conn()).await.map_err(backend)?;
            out.extend(got);
        }
        Ok(out)
    }
}
