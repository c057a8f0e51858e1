//! The crypto core used the way the identity service will use it: registration, login
//! with rehash-on-login and a dummy verify for unknown accounts, a token verified by
//! another service from the JWK set alone, and a TOTP second step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Duration;
use nova_core::{ErrorKind, ManualClock, Principal, SessionId, UserId};
use nova_identity::{
    CachedVerifier, KeySet, Passwords, TokenConfig, TokenIssuer, TokenVerifier, Totp, TotpSecret,
    VerificationKeys, check_policy, generate_recovery_codes, verify_recovery_code,
};

#[tokio::test]
async fn register_login_verify_elsewhere_and_second_factor() {
    let clock = ManualClock::at_epoch_seconds(1_800_000_000);

    // Registration: policy, then hash with an older, weaker configuration.
    let (username, email, password) = ("alice", "alice@example.com", "violet-harbour-tram-42");
    check_policy(password, username, email).unwrap();
    let old = Passwords::with_params(4096, 1, 1).unwrap();
    let stored = old.hash(password).await.unwrap();

    // Login with today's configuration: verify, then upgrade the hash.
    let current = Passwords::owasp();
    assert!(current.verify(password, &stored).await.unwrap());
    assert!(current.needs_rehash(&stored));
    let upgraded = current.hash(password).await.unwrap();
    assert!(!current.needs_rehash(&upgraded));
    assert!(current.verify(password, &upgraded).await.unwrap());
    assert!(
        !current
            .verify("violet-harbour-tram-43", &upgraded)
            .await
            .unwrap()
    );
    // Unknown account: same work, same answer as a wrong password.
    assert!(!current.dummy_verify(password).await);

    // Second factor: enrol, confirm with a code, keep the step.
    let secret = TotpSecret::generate();
    let totp = Totp::new(&secret, username, clock.shared()).unwrap();
    assert!(totp.otpauth_uri().unwrap().contains("issuer=Nova"));
    let now = 1_800_000_000_u64;
    let step = totp.verify(&totp.code_at(now), None).unwrap();
    assert!(
        totp.verify(&totp.code_at(now), Some(step)).is_err(),
        "replay"
    );
    let recovery = generate_recovery_codes();
    let left = verify_recovery_code(&recovery.codes[0], &recovery.hashes).unwrap();
    assert!(verify_recovery_code(&recovery.codes[0], &left).is_err());

    // Token issued by identity, verified by another service from the JWK set alone.
    let keys = Arc::new(KeySet::generate("k1").unwrap());
    let config = TokenConfig::new("https://nova.test/identity", "nova");
    let issuer = TokenIssuer::new(keys.clone(), config.clone(), clock.shared());
    let principal = Principal::user(UserId::new(), SessionId::new());
    let token = issuer.issue(&principal).unwrap().token;

    let published = keys.jwks().to_string();
    let remote_keys = VerificationKeys::from_jwks(&published).unwrap();
    let remote = CachedVerifier::new(TokenVerifier::new(remote_keys, config, clock.shared()));
    assert_eq!(remote.verify(&token).unwrap(), principal);
    assert_eq!(remote.verify(&token).unwrap(), principal);
    assert_eq!((remote.hits(), remote.misses()), (1, 1));

    clock.advance(Duration::minutes(16));
    let err = remote.verify(&token).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
}
