//! The Redis adapter: one [`RedisStore`] implements every port.
//!
//! All keys and channels start with the store's prefix (tests use a unique one each), then
//! a namespace per port so a cache key can never collide with a sorted set:
//! `{prefix}cache:{key}`, `{prefix}rl:{key}`, `{prefix}z:{key}`, channel `{prefix}ps:{channel}`.
//! Commands go through one auto-reconnecting multiplexed connection; each subscription gets
//! a dedicated pub/sub connection.

mod sorted_sets;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use nova_core::{Error, ErrorKind, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script, cmd};

use crate::cache::{Cache, validate_ttl};
use crate::pubsub::{Message, MessageStream, PubSub};
use crate::rate_limit::{Decision, Quota, RateLimiter, micros, validate};

/// How long connecting, or waiting for a reply, may take before the call fails.
const TIMEOUT: Duration = Duration::from_secs(2);

const CACHE: &str = "cache:";
const RATE_LIMIT: &str = "rl:";
const SORTED_SET: &str = "z:";
const CHANNEL: &str = "ps:";

/// A Redis connection with a key prefix; implements [`Cache`], [`RateLimiter`],
/// [`PubSub`] and [`SortedSets`](crate::SortedSets). Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: Arc<str>,
    gcra: Arc<Script>,
}

impl RedisStore {
    /// Connects to `url` (`redis://` or `rediss://`) and checks that the server answers.
    ///
    /// A malformed URL is `InvalidArgument` (field `redis_url`); an unreachable server is
    /// `Unavailable`.
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self> {
        let store = Self::lazy(url, key_prefix)?;
        store.ping().await?;
        Ok(store)
    }

    /// Like [`connect`](Self::connect) but without connecting: the first command does.
    /// Must be called within a Tokio runtime.
    pub fn lazy(url: &str, key_prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| Error::invalid("redis_url", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(backend)?;
        Ok(Self {
            client,
            conn,
            prefix: key_prefix.into(),
            gcra: Arc::new(Script::new(include_str!("gcra.lua"))),
        })
    }

    /// The prefix of every key and channel this store touches.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// Checks that the server answers (for readiness probes).
    pub async fn ping(&self) -> Result<()> {
        cmd("PING")
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    /// Deletes every key under this store's prefix (test cleanup); returns how many.
    pub async fn purge(&self) -> Result<u64> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut conn = self.conn();
        let mut cursor = 0u64;
        let mut deleted = 0u64;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            if !keys.is_empty() {
                let n: u64 = cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                deleted += n;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn key(&self, namespace: &str, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + namespace.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(namespace);
        full.push_str(key);
        full
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Maps a Redis failure to Nova's error: a reply Nova did not expect is a bug
/// (`Internal`); anything else (I/O, timeouts, a server that is loading or read-only)
/// means the backend is `Unavailable`. The Redis error stays attached as the source.
pub(crate) fn backend(err: RedisError) -> Error {
    use redis::ErrorKind as K;
    use redis::ServerErrorKind as S;
    let kind = match err.kind() {
        K::Parse
        | K::UnexpectedReturnType
        | K::InvalidClientConfig
        | K::Client
        | K::Extension
        | K::Server(S::ResponseError | S::NoScript | S::NoPerm) => ErrorKind::Internal,
        _ => ErrorKind::Unavailable,
    };
    Error::from_kind(kind).with_source(err)
}

/// Escapes the glob characters `SCAN MATCH` interprets.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Cache for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        cmd("GET")
            .arg(self.key(CACHE, key))
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<()> {
        let ttl_ms = validate_ttl(ttl)?;
        cmd("SET")
            .arg(self.key(CACHE, key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let n: u64 = cmd("DEL")
            .arg(self.key(CACHE, key))
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut mget = cmd("MGET");
        for key in keys {
            mget.arg(self.key(CACHE, key));
        }
        mget.query_async(&mut self.conn()).await.map_err(backend)
    }
}

#[async_trait]
impl RateLimiter for RedisStore {
    async fn check_n(&self, key: &str, quota: &Quota, cost: u32) -> Result<Decision> {
        let (interval, window, cost) = validate(quota, cost)?;
        let (allowed, remaining, retry_us, reset_us): (i64, i64, i64, i64) = self
            .gcra
            .key(self.key(RATE_LIMIT, key))
            .arg(interval)
            .arg(window)
            .arg(cost)
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(Decision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            retry_after: micros(retry_us),
            reset_after: micros(reset_us),
        })
    }
}

#[async_trait]
impl PubSub for RedisStore {
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<()> {
        cmd("PUBLISH")
            .arg(self.key(CHANNEL, channel))
            .arg(payload)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn subscribe(&self, channel: &str) -> Result<MessageStream> {
        let connect = self.client.get_async_pubsub();
        let mut pubsub = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(Error::unavailable)?
            .map_err(backend)?;
        let full = self.key(CHANNEL, channel);
        tokio::time::timeout(TIMEOUT, pubsub.subscribe(&full))
            .await
            .map_err(Error::unavailable)?
            .map_err(backend)?;
        let strip = full.len() - channel.len();
        let stream = pubsub.into_on_message().map(move |msg| Message {
            channel: msg
                .get_channel_name()
                .get(strip..)
                .unwrap_or_default()
                .to_owned(),
            payload: msg.get_payload_bytes().to_vec(),
        });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[tokio::test]
    async fn bad_url_names_the_field() {
        let err = RedisStore::lazy("not a url", "p:").unwrap_err();
        assert_eq!(err.field(), Some("redis_url"));
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable() {
        let err = RedisStore::connect("redis://127.0.0.1:1", "p:")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
    }
}
