//! The bounded cache of verified tokens lives in nova-auth (every service verifies);
//! its tests stay here, where tokens can be signed.

pub use nova_auth::token_cache::{CachedVerifier, DEFAULT_CACHE_CAPACITY};

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;
    use nova_core::{ErrorKind, ManualClock, SessionId, UserId};

    use nova_core::Principal;

    use super::*;
    use crate::test_keys::{KEY_A, KEY_B};
    use crate::tokens::{KeySet, TokenConfig, TokenIssuer, TokenVerifier};

    fn setup(capacity: u64) -> (ManualClock, TokenIssuer, CachedVerifier) {
        let clock = ManualClock::at_epoch_seconds(1_800_000_000);
        let keys = Arc::new(KeySet::new(KEY_A.clone()));
        let config = TokenConfig::new("https://nova.test", "nova");
        let issuer = TokenIssuer::new(keys.clone(), config.clone(), clock.shared());
        let verifier = TokenVerifier::for_key_set(&*keys, config, clock.shared());
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
