//! Timelines in Redis lists, every write one round trip.
//!
//! One list per timeline, `{prefix}feed:l:h:{user}` (home) or `{prefix}feed:l:a:{user}`
//! (an author's own posts). Element 0 is the **header**: the timeline's cap in decimal.
//! It marks the timeline materialised and lives in the same key, so a flush or an
//! eviction loses header and entries together, and a list is never empty while it
//! exists. The entries follow, newest first, sorted, without duplicates: each is 32
//! bytes, the post id then the author id (big-endian UUID bytes, so byte order is
//! creation order for UUIDv7 post ids); they never equal a header (shorter).
//!
//! Only the first `cap` entries are the timeline. Trimming is amortised: a fan-out write
//! inserts after the header (`LINSERT … AFTER header`: the pivot is element 0, found at
//! once) and trims back to `cap` (`LTRIM 0 cap`) only when the list has grown `slack`
//! past it, so the usual write costs two commands (`LINDEX 1`, the newest entry, for
//! the order; `LINSERT`). The entries past `cap` are invisible: reads never look past the
//! header's cap, and every operation that could bring them back (a smaller or larger
//! cap, an older post, a removal) first cuts the list to the header's cap. So readers
//! see exactly the newest `cap` entries, as if trimmed on every write.
//!
//! Fan-out runs a Lua script per chunk of 1,000 timelines (chunks sent concurrently on
//! the multiplexed connection): for each key that has a header, the write above, or an
//! ordered merge when the post is not newer than the timeline's newest (an out-of-order
//! or repeated delivery). Lua compares entries byte by byte (`string.byte`): its `<` on
//! strings follows the server's collation locale. One script call replaces thousands of
//! commands, and absent timelines get nothing. The keys of one call may live on
//! different hash slots, so this needs a single Redis (or a proxy), not Redis Cluster.
//! Home visits live in one hash, pulled authors in one set.
//!
//! Earlier versions kept sorted sets under `{prefix}feed:h:…` / `feed:a:…`; those keys
//! are no longer read (timelines rebuild from SQL under the new names) and may be
//! deleted.

use async_trait::async_trait;
use nova_core::id::Uuid;
use nova_core::{Error, ErrorKind, PostId, Result, Timestamp, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script, cmd, pipe};
use std::sync::Arc;
use std::time::Duration;

use super::{Entry, TimelineKey, TimelineStore};

const TIMEOUT: Duration = Duration::from_secs(2);
/// Fields per `HMGET` / members per `SMISMEMBER` / timelines per fan-out script call.
const CHUNK: usize = 1000;
/// Entries per `RPUSH` of a rebuild.
const PUSH_CHUNK: usize = 1000;

/// Shared Lua: byte-wise comparison, the header, the cut to the header's cap and the
/// ordered rewrite.
const LIB: &str = r#"
local byte = string.byte
-- Compares the first n bytes (a multiple of 8) of a and b: < 0, 0 or > 0.
local function cmp(a, b, n)
  for i = 1, n, 8 do
    local a1, a2, a3, a4, a5, a6, a7, a8 = byte(a, i, i + 7)
    local b1, b2, b3, b4, b5, b6, b7, b8 = byte(b, i, i + 7)
    if a1 ~= b1 then return a1 - b1 end
    if a2 ~= b2 then return a2 - b2 end
    if a3 ~= b3 then return a3 - b3 end
    if a4 ~= b4 then return a4 - b4 end
    if a5 ~= b5 then return a5 - b5 end
    if a6 ~= b6 then return a6 - b6 end
    if a7 ~= b7 then return a7 - b7 end
    if a8 ~= b8 then return a8 - b8 end
  end
  return 0
end
-- The visible entries of key (header cap old), newest first.
local function visible(key, old)
  if old < 1 then return {} end
  return redis.call('LRANGE', key, 1, old)
end
-- Rewrites key as header cap + the newest cap of the merge of cur and add (both
-- newest first, without duplicates).
local function rewrite(key, cur, add, cap)
  local out, i, j = {}, 1, 1
  while #out < cap and (i <= #cur or j <= #add) do
    local a, b = cur[i], add[j]
    local c
    if a == nil then c = -1 elseif b == nil then c = 1 else c = cmp(a, b, 32) end
    if c > 0 then out[#out + 1] = a; i = i + 1
    elseif c < 0 then out[#out + 1] = b; j = j + 1
    else out[#out + 1] = a; i = i + 1; j = j + 1 end
  end
  redis.call('DEL', key)
  redis.call('RPUSH', key, tostring(cap))
  for k = 1, #out, 1000 do
    redis.call('RPUSH', key, unpack(out, k, math.min(k + 999, #out)))
  end
end
"#;

/// `KEYS` = timelines, `ARGV` = member, cap (decimal, as in headers), slack.
/// Materialised timelines only. The usual write: `LINDEX 1` (the newest entry), then
/// `LINSERT` after the header (0: absent; -1: the header holds another cap).
const PUSH: &str = r#"
local m, header, cap = ARGV[1], ARGV[2], tonumber(ARGV[2])
local longest = cap + 1 + tonumber(ARGV[3])
local m1, m2, m3, m4, m5, m6, m7, m8 = byte(m, 1, 8)
-- Is m newer than entry e?
local function newer(e)
  local e1, e2, e3, e4, e5, e6, e7, e8 = byte(e, 1, 8)
  if m1 ~= e1 then return m1 > e1 end
  if m2 ~= e2 then return m2 > e2 end
  if m3 ~= e3 then return m3 > e3 end
  if m4 ~= e4 then return m4 > e4 end
  if m5 ~= e5 then return m5 > e5 end
  if m6 ~= e6 then return m6 > e6 end
  if m7 ~= e7 then return m7 > e7 end
  if m8 ~= e8 then return m8 > e8 end
  return cmp(m, e, 32) > 0
end
local call, n = redis.call, 0
for _, key in ipairs(KEYS) do
  local newest = call('LINDEX', key, 1)
  local len = -1
  if cap > 0 and (not newest or newer(newest)) then
    len = call('LINSERT', key, 'AFTER', header, m)
    if len > longest then call('LTRIM', key, 0, cap) end
  end
  if len > 0 then
    n = n + 1
  elseif len < 0 then
    -- Not newer than the newest, no entries kept, or another cap: the ordered rewrite.
    local old = call('LINDEX', key, 0)
    if old then
      n = n + 1
      rewrite(key, visible(key, tonumber(old)), {m}, cap)
    end
  end
end
return n
"#;

/// `KEYS[1]` = timeline, `ARGV` = cap then members (newest first, no duplicates).
const INSERT: &str = r#"
local header = redis.call('LINDEX', KEYS[1], 0)
if not header then return 0 end
local add = {}
for i = 2, #ARGV do add[#add + 1] = ARGV[i] end
rewrite(KEYS[1], visible(KEYS[1], tonumber(header)), add, tonumber(ARGV[1]))
return 1
"#;

/// `KEYS[1]` = timeline, `ARGV` = post id bytes (16), limit. The visible entries older
/// than the post, newest first; `false` (nil) when absent.
const PAGE: &str = r#"
local key, bound, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local header = redis.call('LINDEX', key, 0)
if not header then return false end
local last = math.min(redis.call('LLEN', key) - 1, tonumber(header))
-- First index in 1..last whose post orders below the bound (last + 1 if none).
local lo, hi = 1, last + 1
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  if cmp(redis.call('LINDEX', key, mid), bound, 16) < 0 then hi = mid else lo = mid + 1 end
end
if lo > last or limit < 1 then return {} end
return redis.call('LRANGE', key, lo, math.min(last, lo + limit - 1))
"#;

/// `KEYS` = timelines, `ARGV[1]` = member: removes it from each materialised one.
const REMOVE: &str = r#"
for _, key in ipairs(KEYS) do
  local header = redis.call('LINDEX', key, 0)
  if header then
    redis.call('LTRIM', key, 0, tonumber(header))
    redis.call('LREM', key, 1, ARGV[1])
  end
end
return 0
"#;

/// `KEYS[1]` = timeline, `ARGV[1]` = author id bytes (16): removes their entries,
/// returns how many.
const REMOVE_AUTHOR: &str = r#"
local key, author = KEYS[1], ARGV[1]
local header = redis.call('LINDEX', key, 0)
if not header then return 0 end
local old = tonumber(header)
local kept, gone = {}, 0
for _, e in ipairs(visible(key, old)) do
  if string.sub(e, 17, 32) == author then gone = gone + 1 else kept[#kept + 1] = e end
end
if gone > 0 then rewrite(key, kept, {}, old) end
return gone
"#;

struct Scripts {
    push: Script,
    insert: Script,
    page: Script,
    remove: Script,
    remove_author: Script,
}

impl Scripts {
    fn new() -> Self {
        let with_lib = |body: &str| Script::new(&format!("{LIB}{body}"));
        Self {
            push: with_lib(PUSH),
            insert: with_lib(INSERT),
            page: with_lib(PAGE),
            remove: with_lib(REMOVE),
            remove_author: with_lib(REMOVE_AUTHOR),
        }
    }
}

/// Timelines in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisTimelineStore {
    conn: ConnectionManager,
    prefix: String,
    scripts: Arc<Scripts>,
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

/// An entry's list element: post id bytes then author id bytes.
fn member(entry: &Entry) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[..16].copy_from_slice(entry.post.as_uuid().as_bytes());
    m[16..].copy_from_slice(entry.author.as_uuid().as_bytes());
    m
}

fn parse_member(m: &[u8]) -> Result<Entry> {
    let bad = || Error::internal(format!("timeline element {m:?} is not post id + author id"));
    let (post, author) = m.split_at_checked(16).ok_or_else(bad)?;
    Ok(Entry::new(
        PostId::from_uuid(Uuid::from_slice(post).map_err(|_| bad())?),
        UserId::from_uuid(Uuid::from_slice(author).map_err(|_| bad())?),
    ))
}

/// The cap as the scripts and the header see it.
fn cap_arg(cap: usize) -> u64 {
    // Far beyond any configuration; keeps Lua's numbers exact.
    u64::try_from(cap).unwrap_or(u64::MAX).min(1 << 40)
}

/// How far past its cap a list may grow before a fan-out write trims it (an eighth of
/// the cap, at least 8): the trim runs once per `slack` writes instead of every write.
fn slack(cap: u64) -> u64 {
    (cap / 8).max(8)
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
            scripts: Arc::new(Scripts::new()),
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
        let mut k = String::with_capacity(self.prefix.len() + 9 + 32);
        k.push_str(&self.prefix);
        k.push_str("feed:l:");
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
}

/// Members of `entries`, newest first, without duplicates.
fn sorted_members(entries: &[Entry]) -> Vec<[u8; 32]> {
    let mut members: Vec<[u8; 32]> = entries.iter().map(member).collect();
    members.sort_unstable_by(|a, b| b.cmp(a));
    members.dedup();
    members
}

#[async_trait]
impl TimelineStore for RedisTimelineStore {
    async fn push(&self, timelines: &[TimelineKey], entry: Entry, cap: usize) -> Result<()> {
        let m = member(&entry);
        let cap = cap_arg(cap);
        let calls = timelines.chunks(CHUNK).map(|chunk| {
            let mut invocation = self.scripts.push.prepare_invoke();
            for t in chunk {
                invocation.key(self.key(t));
            }
            invocation.arg(&m[..]).arg(cap).arg(slack(cap));
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
        let mut invocation = self.scripts.insert.prepare_invoke();
        invocation.key(self.key(&timeline)).arg(cap_arg(cap));
        for m in sorted_members(entries) {
            invocation.arg(&m[..]);
        }
        invocation
            .invoke_async::<i64>(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn rebuild(&self, timeline: TimelineKey, entries: &[Entry], cap: usize) -> Result<()> {
        let key = self.key(&timeline);
        let cap = cap_arg(cap);
        let mut members = sorted_members(entries);
        members.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        let mut p = pipe();
        p.atomic();
        p.cmd("DEL").arg(&key).ignore();
        p.cmd("RPUSH").arg(&key).arg(cap.to_string()).ignore();
        for chunk in members.chunks(PUSH_CHUNK) {
            let mut rpush = cmd("RPUSH");
            rpush.arg(&key);
            for m in chunk {
                rpush.arg(&m[..]);
            }
            p.add_command(rpush).ignore();
        }
        p.query_async::<()>(&mut self.conn()).await.map_err(backend)
    }

    async fn page(
        &self,
        timeline: TimelineKey,
        before: Option<PostId>,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let key = self.key(&timeline);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX - 1);
        let elements: Option<Vec<Vec<u8>>> = match before {
            None => {
                // The header and up to `limit` entries; nothing at all: absent.
                let got: Vec<Vec<u8>> = cmd("LRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut self.conn())
                    .await
                    .map_err(backend)?;
                let Some((header, entries)) = got.split_first() else {
                    return Ok(None);
                };
                let cap = std::str::from_utf8(header)
                    .ok()
                    .and_then(|h| h.parse::<usize>().ok())
                    .ok_or_else(|| Error::internal(format!("timeline header {header:?}")))?;
                Some(entries.iter().take(cap).cloned().collect())
            }
            Some(post) => self
                .scripts
                .page
                .key(&key)
                .arg(&post.as_uuid().as_bytes()[..])
                .arg(limit)
                .invoke_async(&mut self.conn())
                .await
                .map_err(backend)?,
        };
        elements
            .map(|e| e.iter().map(|m| parse_member(m)).collect())
            .transpose()
    }

    async fn remove_author(&self, timeline: TimelineKey, author: UserId) -> Result<usize> {
        self.scripts
            .remove_author
            .key(self.key(&timeline))
            .arg(&author.as_uuid().as_bytes()[..])
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn remove(&self, timelines: &[TimelineKey], entry: Entry) -> Result<()> {
        let m = member(&entry);
        let calls = timelines.chunks(CHUNK).map(|chunk| {
            let mut invocation = self.scripts.remove.prepare_invoke();
            for t in chunk {
                invocation.key(self.key(t));
            }
            invocation.arg(&m[..]);
            let mut conn = self.conn();
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        });
        futures::future::try_join_all(calls)
            .await
            .map_err(backend)?;
        Ok(())
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
