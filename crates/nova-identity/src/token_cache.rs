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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;
    use nova_core::{ErrorKind, ManualClock, SessionId, UserId};

    use super::*;
    use crate::test_keys::{KEY_A, KEY_B};
    use crate::tokens::{KeySet, TokenConfig, TokenIssuer};

    fn setup(capacity: u64) -> (ManualClock, TokenIssuer, CachedVerifier) {
        let clock = ManualClock::at_epoch_seconds(1_800_000_000);
        let keys = Arc::new(KeySet::new(KEY_A.clone()));
        let config = TokenConfig::new("https://nova.test", "nova");
        let issuer = TokenIssuer::new(keys.clone(), config.clone(), clock.shared());
        let verifier = TokenVerifier::for_key_set(&keys, config, clock.shared());
        (
            clock,
            issuer,
            CachedVerifier::with_capacity(verifier, capacity),
        )
    }

    fn principal() -> Principal {
        Principal::user(UserId::new(), SessionId::new())
    }

    #[test]
    fn second_verification_is_a_cache_hit_with_the_same_principal() {
        let (_clock, issuer, cached) = setup(100);
        let p = principal();
        let token = issuer.issue(&p).unwrap().token;
        assert_eq!(cached.verify(&token).unwrap(), p);
        assert_eq!((cached.hits(), cached.misses()), (0, 1));
        assert_eq!(cached.verify(&token).unwrap(), p);
        assert_eq!(cached.verify(&token).unwrap(), p);
        assert_eq!((cached.hits(), cached.misses()), (2, 1));
        assert_eq!(cached.entry_count(), 1);
    }

    #[test]
    fn a_cached_token_still_expires_by_the_clock() {
        let (clock, issuer, cached) = setup(100);
        let token = issuer.issue(&principal()).unwrap().token;
        cached.verify(&token).unwrap();
        clock.advance(Duration::minutes(15) + Duration::seconds(30));
        let err = cached.verify(&token).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        assert_eq!(err.message(), "access token expired");
        assert_eq!(
            cached.hits(),
            1,
            "the expiry was decided on the cached entry"
        );
        // And it stays rejected (now through the full check).
        assert!(cached.verify(&token).is_err());
    }

    #[test]
    fn invalid_tokens_are_never_cached() {
        let (_clock, issuer, cached) = setup(100);
        let token = issuer.issue(&principal()).unwrap().token;
        cached.verify(&token).unwrap();
        // A forged token (another key under our kid's name is unknown here) and a tampered
        // copy of the cached one: each is checked in full, every time.
        let attacker = TokenIssuer::new(
            Arc::new(KeySet::new(KEY_B.clone())),
            TokenConfig::new("https://nova.test", "nova"),
            cached.inner().clock().clone(),
        );
        let forged = attacker.issue(&principal()).unwrap().token;
        // Change one signature character well before the end (no base64 padding bits).
        let mut tampered = token.clone().into_bytes();
        let at = tampered.len() - 10;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [&forged, &tampered] {
            for _ in 0..3 {
                let err = cached.verify(bad).unwrap_err();
                assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
            }
        }
        assert_eq!(cached.hits(), 0);
        assert_eq!(cached.misses(), 7);
        assert_eq!(cached.entry_count(), 1, "only the valid token is cached");
    }

    #[test]
    fn the_cache_is_bounded() {
        let (_clock, issuer, cached) = setup(8);
        for _ in 0..40 {
            let token = issuer.issue(&principal()).unwrap().token;
            cached.verify(&token).unwrap();
        }
        let entries = cached.entry_count();
        assert!(entries <= 8, "{entries} entries in a cache of 8");
        cached.invalidate_all();
        assert_eq!(cached.entry_count(), 0);
    }
}
