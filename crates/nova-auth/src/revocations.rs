//! [`Revocations`]: the sessions identity has ended (logout, logout everywhere, password
//! change or reset), so a verifier refuses their still-unexpired access tokens at once.
//!
//! Identity writes one `session.revoked` event per ended session; a consumer in every
//! process that verifies tokens records it here, and [`JwksAuthenticator`](crate::JwksAuthenticator)
//! consults the set after checking the signature. An entry lives as long as an access
//! token ([`ACCESS_TOKEN_TTL`]): after that every token of the session has expired anyway.
//!
//! - [`LocalRevocations`]: in this process only (the all-in-one, tests);
//! - [`KvRevocations`]: shared through the key-value store (Redis in scale-out): a key
//!   per session with the token lifetime as TTL, announced on pub/sub so every replica
//!   keeps a local copy and a verify stays an in-memory lookup.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use nova_core::{Result, SessionId};
use nova_kv::{Cache, PubSub};
use tokio_util::sync::CancellationToken;

use crate::ACCESS_TOKEN_TTL;

/// The pub/sub channel announcing revoked sessions (payload: the session id).
pub const REVOKED_CHANNEL: &str = "auth.session-revoked";

/// Key prefix of revoked sessions in the shared cache.
const KEY_PREFIX: &str = "auth:revoked:";

/// Most sessions remembered per process (about 50 bytes each).
const MAX_ENTRIES: u64 = 1_000_000;

/// How long an access token lives: a revocation older than that refuses nothing more.
fn token_lifetime() -> Duration {
    Duration::from_secs(ACCESS_TOKEN_TTL.num_seconds().unsigned_abs())
}

/// The ended sessions whose access tokens must be refused.
#[async_trait]
pub trait Revocations: Send + Sync {
    /// Records that `session` has ended.
    async fn revoke(&self, session: SessionId) -> Result<()>;

    /// Whether `session` has ended.
    async fn is_revoked(&self, session: SessionId) -> Result<bool>;
}

/// Revoked sessions held in this process, forgotten after the access-token lifetime.
#[derive(Clone)]
pub struct LocalRevocations {
    revoked: moka::sync::Cache<SessionId, ()>,
}

impl std::fmt::Debug for LocalRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRevocations")
            .field("entries", &self.revoked.entry_count())
            .finish()
    }
}

impl Default for LocalRevocations {
    fn default() -> Self {
        Self::new(token_lifetime())
    }
}

impl LocalRevocations {
    /// Remembers each revoked session for `ttl` (the access-token lifetime).
    pub fn new(ttl: Duration) -> Self {
        Self {
            revoked: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl)
                .build(),
        }
    }

    fn insert(&self, session: SessionId) {
        self.revoked.insert(session, ());
    }

    fn contains(&self, session: SessionId) -> bool {
        self.revoked.contains_key(&session)
    }
}

#[async_trait]
impl Revocations for LocalRevocations {
    async fn revoke(&self, session: SessionId) -> Result<()> {
        self.insert(session);
        Ok(())
    }

    async fn is_revoked(&self, session: SessionId) -> Result<bool> {
        Ok(self.contains(session))
    }
}

/// Revoked sessions shared by every process through the key-value store.
///
/// [`revoke`](Revocations::revoke) writes the key and announces it on
/// [`REVOKED_CHANNEL`]; [`spawn_listener`](Self::spawn_listener) copies announcements into
/// this process. A session id not seen before is looked up in the store once (a process
/// started after the revocation still refuses it); after that the local copy, kept
/// current by the listener, answers.
pub struct KvRevocations {
    cache: Arc<dyn Cache>,
    pubsub: Arc<dyn PubSub>,
    ttl: Duration,
    revoked: LocalRevocations,
    /// Sessions looked up in the store and found live.
    checked: moka::sync::Cache<SessionId, ()>,
}

impl std::fmt::Debug for KvRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvRevocations").finish_non_exhaustive()
    }
}

impl KvRevocations {
    /// Over `cache` and `pubsub`, entries kept for [`ACCESS_TOKEN_TTL`].
    pub fn new(cache: Arc<dyn Cache>, pubsub: Arc<dyn PubSub>) -> Self {
        Self::with_ttl(cache, pubsub, token_lifetime())
    }

    /// Over `cache` and `pubsub`, entries kept for `ttl`.
    pub fn with_ttl(cache: Arc<dyn Cache>, pubsub: Arc<dyn PubSub>, ttl: Duration) -> Self {
        Self {
            cache,
            pubsub,
            ttl,
            revoked: LocalRevocations::new(ttl),
            checked: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl)
                .build(),
        }
    }

    fn key(session: SessionId) -> String {
        format!("{KEY_PREFIX}{session}")
    }

    /// Copies announcements on [`REVOKED_CHANNEL`] into this process until `stop`,
    /// subscribing again when the connection is lost. After each (re)subscription the
    /// sessions found live in the store are looked up again, so an announcement made
    /// before the subscription was up is never missed.
    pub fn spawn_listener(
        self: &Arc<Self>,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let mut stream = match this.pubsub.subscribe(REVOKED_CHANNEL).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "revocation channel: subscribing failed");
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                };
                this.checked.invalidate_all();
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        message = stream.next() => match message {
                            Some(message) => this.heard(&message.payload),
                            None => break,
                        },
                    }
                }
                // Lost: until subscribed again, look every session up in the store.
                this.checked.invalidate_all();
            }
        })
    }

    fn heard(&self, payload: &[u8]) {
        match std::str::from_utf8(payload)
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(session) => self.revoked.insert(session),
            None => tracing::warn!("revocation channel: a payload that is no session id"),
        }
    }
}

#[async_trait]
impl Revocations for KvRevocations {
    async fn revoke(&self, session: SessionId) -> Result<()> {
        self.revoked.insert(session);
        self.cache
            .set(&Self::key(session), vec![1], self.ttl)
            .await?;
        self.pubsub
            .publish(REVOKED_CHANNEL, session.to_string().into_bytes())
            .await
    }

    async fn is_revoked(&self, session: SessionId) -> Result<bool> {
        if self.revoked.contains(session) {
            return Ok(true);
        }
        if self.checked.contains_key(&session) {
            return Ok(false);
        }
        let revoked = self.cache.get(&Self::key(session)).await?.is_some();
        if revoked {
            self.revoked.insert(session);
        } else {
            self.checked.insert(session, ());
        }
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionId {
        SessionId::new()
    }

    #[tokio::test]
    async fn local_revocations_refuse_revoked_sessions_only() {
        let revocations = LocalRevocations::default();
        let (ended, live) = (session(), session());
        revocations.revoke(ended).await.unwrap();
        assert!(revocations.is_revoked(ended).await.unwrap());
        assert!(!revocations.is_revoked(live).await.unwrap());
    }

    async fn shared_contract(a: &Arc<KvRevocations>, b: &Arc<KvRevocations>) {
        let stop = CancellationToken::new();
        let _la = a.spawn_listener(stop.clone());
        let _lb = b.spawn_listener(stop.clone());
        let (ended, live) = (session(), session());
        // `b` has seen `ended` live before it is revoked: pub/sub must tell it.
        assert!(!b.is_revoked(ended).await.unwrap());
        assert!(!b.is_revoked(live).await.unwrap());
        a.revoke(ended).await.unwrap();
        assert!(a.is_revoked(ended).await.unwrap());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !b.is_revoked(ended).await.unwrap() {
            assert!(tokio::time::Instant::now() < deadline, "never announced");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!b.is_revoked(live).await.unwrap());
        stop.cancel();
    }

    #[tokio::test]
    async fn kv_revocations_reach_other_processes_in_process_backend() {
        let kv = nova_kv::Kv::in_process();
        let a = Arc::new(KvRevocations::new(kv.cache.clone(), kv.pubsub.clone()));
        let b = Arc::new(KvRevocations::new(kv.cache, kv.pubsub));
        shared_contract(&a, &b).await;
    }

    #[tokio::test]
    async fn kv_revocations_reach_other_processes_over_redis() {
        let Some(redis) = nova_testkit::redis().await else {
            return;
        };
        let open = || async {
            let kv = nova_kv::Kv::redis(redis.url(), redis.prefix())
                .await
                .unwrap();
            Arc::new(KvRevocations::new(kv.cache, kv.pubsub))
        };
        let (a, b) = (open().await, open().await);
        shared_contract(&a, &b).await;
        // A process started after the revocation finds it in the store.
        let (late, ended) = (open().await, session());
        b.revoke(ended).await.unwrap();
        assert!(late.is_revoked(ended).await.unwrap());
    }
}
