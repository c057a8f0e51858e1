//! A bounded cache in front of [`TokenVerifier`]: a service sees the same access token
//! on every request of a session, so the RSA verification is paid once per token.
//!
//! Entries are keyed by the SHA-256 of the token (the token itself is not kept), and hold
//! the verified [`Principal`] and the token's `exp`. A hit still checks `exp` against the
//! verifier's clock, so a cached token expires exactly when an uncached one would. Only
//! tokens that verified are inserted: a forged token is re-checked (and rejected) every
//! time. The cache is bounded (least-recently-used entries go first) and entries also
//! leave after the token lifetime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration as StdDuration;

use moka::sync::Cache;
use nova_core::{Principal, Result};
use sha2::{Digest, Sha256};

use crate::tokens::{ACCESS_TOKEN_TTL, TokenVerifier, expired_token};

/// Default number of verified tokens kept.
pub const DEFAULT_CACHE_CAPACITY: u64 = 100_000;

#[derive(Clone)]
struct Verified {
    principal: Principal,
    exp: i64,
}

/// A [`TokenVerifier`] with a bounded cache of verified tokens.
pub struct CachedVerifier {
    inner: TokenVerifier,
    cache: Cache<[u8; 32], Verified>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for CachedVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedVerifier")
            .field("inner", &self.inner)
            .field("entries", &self.cache.entry_count())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

impl CachedVerifier {
    /// Caches up to [`DEFAULT_CACHE_CAPACITY`] verified tokens.
    pub fn new(inner: TokenVerifier) -> Self {
        Self::with_capacity(inner, DEFAULT_CACHE_CAPACITY)
    }

    /// Caches up to `capacity` verified tokens.
    pub fn with_capacity(inner: TokenVerifier, capacity: u64) -> Self {
        // Eviction only: correctness comes from the exp check on every hit. The TTL keeps
        // dead tokens from occupying the cache until capacity pressure removes them.
        let ttl = ACCESS_TOKEN_TTL
            .to_std()
            .unwrap_or(StdDuration::from_secs(900))
            + StdDuration::from_secs(inner.leeway_secs().unsigned_abs());
        Self {
            inner,
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Verifies `token`, from the cache when it was verified before.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.cache.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            let now = self.inner.clock().now().timestamp();
            if self.inner.is_expired(hit.exp, now) {
                self.cache.invalidate(&key);
                return Err(expired_token());
            }
            return Ok(hit.principal);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let claims = self.inner.verify_claims(token)?;
        let principal = claims.principal()?;
        self.cache.insert(
            key,
            Verified {
                principal: principal.clone(),
                exp: claims.exp,
            },
        );
        Ok(principal)
    }

    /// The uncached verifier.
    pub fn inner(&self) -> &TokenVerifier {
        &self.inner
    }

    /// Drops every cached token (e.g. after retiring a key).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Number of cached tokens (approximate until pending maintenance has run).
    pub fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Verifications answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Verifications that ran the full RS256 check.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}
