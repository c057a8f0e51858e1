//! Issue 15, identity side, on SQLite and PostgreSQL: the second-factor budget across
//! challenges, login budgets reserved before the hash and keyed by account id, the
//! argon2 concurrency cap, registration that does not reveal emails, and signing keys
//! sealed at rest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{PASSWORD, harness_full, harness_with};
use nova_core::{Clock, ErrorKind, ManualClock, Principal};
use nova_db::Db;
use nova_events::outbox;
use nova_identity::model::{
    LoginOutcome, LoginRequest, RegisterRequest, RequestContext, TokenPair,
};
use nova_identity::store::{IdentityStore, SqlIdentityStore};
use nova_identity::{
    HashLimits, IdentityApi, IdentityConfig, LoginLimits, OAuthProviders, Passwords, SecretBox,
    Totp, TotpSecret, keys_from_store,
};
use nova_kv::Quota;

fn ctx(ip: &str) -> RequestContext {
    RequestContext::new(ip.parse().ok(), "test-agent/1.0")
}

async fn register(api: &dyn IdentityApi, name: &str) {
    api.register(
        RegisterRequest {
            email: format!("{name}@example.com"),
            username: name.into(),
            password: PASSWORD.into(),
        },
        &ctx("10.0.0.1"),
    )
    .await
    .unwrap();
}

async fn login_as(
    api: &dyn IdentityApi,
    req: LoginRequest,
    ip: &str,
) -> nova_core::Result<LoginOutcome> {
    api.login(req, &ctx(ip)).await
}

fn tokens(outcome: LoginOutcome) -> TokenPair {
    match outcome {
        LoginOutcome::Authenticated(pair) => pair,
        other => panic!("expected tokens, got {other:?}"),
    }
}

fn challenge(outcome: LoginOutcome) -> String {
    match outcome {
        LoginOutcome::TwoFactorRequired { challenge, .. } => challenge,
        other => panic!("expected a second-factor challenge, got {other:?}"),
    }
}

fn principal(t: &TokenPair) -> Principal {
    Principal::user(t.user_id, t.session_id)
}

/// Cheap hashing, no concurrency limit: these tests are about budgets, not argon2.
fn cheap() -> Option<Passwords> {
    Some(Passwords::with_params(1024, 1, 1).unwrap())
}

/// Registers `name`, turns TOTP on; (tokens of the enrolling session, TOTP, recovery codes).
async fn with_totp(
    api: &dyn IdentityApi,
    clock: &ManualClock,
    name: &str,
) -> (TokenPair, Totp, Vec<String>) {
    register(api, name).await;
    let t = tokens(
        login_as(api, LoginRequest::new(name, PASSWORD), "10.0.0.1")
            .await
            .unwrap(),
    );
    let enrollment = api.enroll_totp(&principal(&t)).await.unwrap();
    let totp = Totp::new(
        &TotpSecret::from_base32(&enrollment.secret).unwrap(),
        name,
        clock.shared(),
    )
    .unwrap();
    let recovery = api
        .confirm_totp(&principal(&t), &totp.code_at(now(clock)))
        .await
        .unwrap();
    // Past the confirming code's step.
    clock.advance(chrono::Duration::seconds(60));
    (t, totp, recovery)
}

fn now(clock: &ManualClock) -> u64 {
    clock.now().timestamp() as u64
}

/// A wrong code that is not any of the current ones.
fn wrong_code(totp: &Totp, clock: &ManualClock) -> String {
    let t = now(clock);
    let valid: Vec<String> = [t - 30, t, t + 30]
        .iter()
        .map(|s| totp.code_at(*s))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", 123_456 + n))
        .find(|c| !valid.contains(c))
        .unwrap()
}

mod suite {
    use super::*;

    /// Item 1: ten wrong codes spread over fresh challenges (each allowing five) lock the
    /// factor; the right code, a recovery code and `disable_totp` then all wait.
    pub async fn wrong_codes_lock_the_factor_across_fresh_challenges(db: Db) {
        let h = harness_full(
            db,
            IdentityConfig::default(),
            OAuthProviders::default(),
            cheap(),
        );
        let api = h.service.as_ref();
        let (t, totp, recovery) = with_totp(api, &h.clock, "mia").await;
        let wrong = wrong_code(&totp, &h.clock);
        for i in 0..10 {
            // A fresh challenge each time: the per-challenge limit never applies.
            let c = challenge(
                login_as(api, LoginRequest::new("mia", PASSWORD), "10.0.0.1")
                    .await
                    .unwrap(),
            );
            let err = api
                .login_two_factor(&c, &wrong, &ctx("10.0.0.1"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "failure {}", i + 1);
        }
        let c = challenge(
            login_as(api, LoginRequest::new("mia", PASSWORD), "10.0.0.1")
                .await
                .unwrap(),
        );
        let right = totp.code_at(now(&h.clock));
        let err = api
            .login_two_factor(&c, &right, &ctx("10.0.0.1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited, "the right code waits");
        let err = api
            .login_two_factor(&c, &recovery[0], &ctx("10.0.0.1"))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::RateLimited,
            "recovery codes share it"
        );
        let err = api.disable_totp(&principal(&t), &right).await.unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::RateLimited,
            "disable_totp shares it"
        );
        // A code sent with the password is the same factor (and says nothing more).
        let err = login_as(
            api,
            LoginRequest {
                code: Some(right.clone()),
                ..LoginRequest::new("mia", PASSWORD)
            },
            "10.0.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

        // The lock lifts after a while; a success starts the count again.
        h.clock.advance(chrono::Duration::minutes(61));
        let c = challenge(
            login_as(api, LoginRequest::new("mia", PASSWORD), "10.0.0.1")
                .await
                .unwrap(),
        );
        api.login_two_factor(&c, &totp.code_at(now(&h.clock)), &ctx("10.0.0.1"))
            .await
            .unwrap();

        // disable_totp failures and recovery-code failures count in the same budget.
        for _ in 0..9 {
            let err = api
                .disable_totp(&principal(&t), &wrong_code(&totp, &h.clock))
                .await
                .unwrap_err();
            assert_eq!(err.field(), Some("code"));
        }
        let c = challenge(
            login_as(api, LoginRequest::new("mia", PASSWORD), "10.0.0.1")
                .await
                .unwrap(),
        );
        let err = api
            .login_two_factor(&c, "not-a-recovery-code", &ctx("10.0.0.1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        h.clock.advance(chrono::Duration::seconds(30));
        let err = api
            .disable_totp(&principal(&t), &totp.code_at(now(&h.clock)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited);
    }

    /// Item 1: the budget is reserved before a code is checked, so thirty guesses sent at
    /// once on thirty challenges get at most ten evaluations.
    pub async fn concurrent_codes_cannot_overrun_the_second_factor_budget(db: Db) {
        let h = harness_full(
            db,
            IdentityConfig::default(),
            OAuthProviders::default(),
            cheap(),
        );
        let api = h.service.clone();
        let (_, totp, _) = with_totp(api.as_ref(), &h.clock, "noah").await;
        let wrong = wrong_code(&totp, &h.clock);
        let mut challenges = Vec::new();
        for i in 0..30 {
            challenges.push(challenge(
                login_as(
                    api.as_ref(),
                    LoginRequest::new("noah", PASSWORD),
                    &format!("10.3.0.{i}"),
                )
                .await
                .unwrap(),
            ));
        }
        let attempts = challenges.into_iter().map(|c| {
            let (api, wrong) = (api.clone(), wrong.clone());
            tokio::spawn(async move { api.login_two_factor(&c, &wrong, &ctx("10.0.0.1")).await })
        });
        let mut evaluated = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            match attempt.await.unwrap().unwrap_err().kind() {
                ErrorKind::Unauthenticated => evaluated += 1,
                ErrorKind::RateLimited => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(evaluated <= 10, "{evaluated} codes were checked");
    }

    /// Item 5: a hundred concurrent guesses from one address: exactly the address budget
    /// (25) reaches the password check, the rest are refused before hashing.
    pub async fn login_budget_is_reserved_before_the_hash(db: Db) {
        let h = harness_full(
            db,
            IdentityConfig::default(),
            OAuthProviders::default(),
            cheap(),
        );
        let api = h.service.clone();
        let guesses = (0..100).map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                api.login(
                    LoginRequest::new(format!("user{i}@example.com"), "guess guess guess"),
                    &ctx("10.4.0.1"),
                )
                .await
            })
        });
        let (mut checked, mut limited) = (0, 0);
        for guess in guesses.collect::<Vec<_>>() {
            match guess.await.unwrap().unwrap_err().kind() {
                ErrorKind::Unauthenticated => checked += 1,
                ErrorKind::RateLimited => limited += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((checked, limited), (25, 75));
    }

    /// Item 9: the account budget follows the account (however it is typed), and its
    /// owner is not locked out: a device with a recent session of the account, or a login
    /// bringing the second factor, goes through.
    pub async fn account_budget_is_keyed_by_account_and_spares_the_owner(db: Db) {
        let config = IdentityConfig {
            limits: LoginLimits {
                failures_per_account: Quota::new(5, Duration::from_secs(3600)),
                ..LoginLimits::default()
            },
            ..IdentityConfig::default()
        };
        let h = harness_full(db, config, OAuthProviders::default(), cheap());
        let api = h.service.as_ref();
        register(api, "nina").await;
        register(api, "omar").await;
        // The owner logged in on this device before the attack.
        let device = tokens(
            login_as(api, LoginRequest::new("nina", PASSWORD), "10.5.0.1")
                .await
                .unwrap(),
        );
        let omar_device = tokens(
            login_as(api, LoginRequest::new("omar", PASSWORD), "10.5.0.1")
                .await
                .unwrap(),
        );
        // Attackers spread over addresses and spellings.
        let spellings = ["nina", "NINA", "nina@example.com", "Nina@Example.com"];
        let mut limited_at = None;
        for i in 0..8 {
            let err = login_as(
                api,
                LoginRequest::new(spellings[i % spellings.len()], "not the password!"),
                &format!("10.6.0.{i}"),
            )
            .await
            .unwrap_err();
            if err.kind() == &ErrorKind::RateLimited {
                limited_at.get_or_insert(i);
            }
        }
        assert_eq!(limited_at, Some(4), "one budget for every spelling");
        let err = login_as(
            api,
            LoginRequest::new("nina@example.com", PASSWORD),
            "10.7.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited, "a new device waits");
        // Another account's session proves nothing about this one.
        let err = login_as(
            api,
            LoginRequest {
                device_token: Some(omar_device.refresh_token.clone()),
                ..LoginRequest::new("nina", PASSWORD)
            },
            "10.7.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited);
        let back = tokens(
            login_as(
                api,
                LoginRequest {
                    device_token: Some(device.refresh_token.clone()),
                    ..LoginRequest::new("nina", PASSWORD)
                },
                "10.7.0.1",
            )
            .await
            .unwrap(),
        );
        assert_eq!(back.user_id, device.user_id);
        // The known device still needs the right password.
        let err = login_as(
            api,
            LoginRequest {
                device_token: Some(device.refresh_token.clone()),
                ..LoginRequest::new("nina", "not the password!")
            },
            "10.7.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    }

    /// Item 9, second factor: with TOTP on, a login bringing its code passes a spent
    /// account budget; without one it waits, and a wrong code answers like a wrong
    /// password.
    pub async fn a_login_with_its_second_factor_passes_a_spent_account_budget(db: Db) {
        let config = IdentityConfig {
            limits: LoginLimits {
                failures_per_account: Quota::new(5, Duration::from_secs(3600)),
                ..LoginLimits::default()
            },
            ..IdentityConfig::default()
        };
        let h = harness_full(db, config, OAuthProviders::default(), cheap());
        let api = h.service.as_ref();
        let (t, totp, _) = with_totp(api, &h.clock, "pia").await;
        for i in 0..6 {
            let _ = login_as(
                api,
                LoginRequest::new("pia", "not the password!"),
                &format!("10.8.0.{i}"),
            )
            .await;
        }
        let err = login_as(api, LoginRequest::new("pia", PASSWORD), "10.9.0.1")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited);
        let err = login_as(
            api,
            LoginRequest {
                code: Some(wrong_code(&totp, &h.clock)),
                ..LoginRequest::new("pia", PASSWORD)
            },
            "10.9.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        let err = login_as(
            api,
            LoginRequest {
                code: Some(totp.code_at(now(&h.clock))),
                ..LoginRequest::new("pia", "not the password!")
            },
            "10.9.0.1",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        let pair = tokens(
            login_as(
                api,
                LoginRequest {
                    code: Some(totp.code_at(now(&h.clock))),
                    ..LoginRequest::new("pia", PASSWORD)
                },
                "10.9.0.1",
            )
            .await
            .unwrap(),
        );
        assert_eq!(pair.user_id, t.user_id);
    }

    /// Item 6: with room for two hashes and a queue of three, a burst of forty logins gets
    /// clean `Unavailable` answers for the overflow and never more than two hashes at once.
    pub async fn a_full_hashing_queue_answers_unavailable(db: Db) {
        // Slow enough (tens of ms) that the burst arrives while the first hashes run.
        let passwords = Passwords::with_params(8192, 4, 1)
            .unwrap()
            .with_limits(HashLimits {
                max_concurrent: 2,
                max_queued: 3,
                max_wait: Duration::from_secs(30),
            });
        let h = harness_full(
            db,
            IdentityConfig::default(),
            OAuthProviders::default(),
            Some(passwords.clone()),
        );
        let api = h.service.clone();
        // Forty addresses and unknown names: no budget stops them before the hash.
        let logins = (0..40).map(|i| {
            let api = api.clone();
            async move {
                api.login(
                    LoginRequest::new(format!("flood{i}"), "guess guess guess"),
                    &ctx(&format!("10.10.0.{i}")),
                )
                .await
            }
        });
        let answers = futures::future::join_all(logins).await;
        let unavailable = answers
            .iter()
            .filter(|a| a.as_ref().unwrap_err().kind() == &ErrorKind::Unavailable)
            .count();
        let checked = answers
            .iter()
            .filter(|a| a.as_ref().unwrap_err().kind() == &ErrorKind::Unauthenticated)
            .count();
        assert_eq!(unavailable + checked, 40, "{answers:?}");
        assert!(unavailable >= 1, "nothing was turned away");
        assert!(checked >= 5, "the running and queued ones were checked");
        assert!(passwords.peak_concurrent_hashes() <= 2);
        assert!(passwords.peak_concurrent_hashes() >= 1);
    }

    /// Item 8: registering with an email that has an account answers exactly like a
    /// new registration, writes nothing, and emails the owner instead; a taken username
    /// is still reported.
    pub async fn registration_does_not_reveal_existing_emails(db: Db) {
        let h = harness_with(
            db.clone(),
            IdentityConfig::default(),
            OAuthProviders::default(),
        );
        let api = h.service.as_ref();
        register(api, "quinn").await;
        let owner = tokens(
            login_as(api, LoginRequest::new("quinn", PASSWORD), "10.0.0.1")
                .await
                .unwrap(),
        );
        let events_before = outbox::store(&db)
            .fetch_unpublished(100)
            .await
            .unwrap()
            .len();
        let fresh = api
            .register(
                RegisterRequest {
                    email: "fresh@example.com".into(),
                    username: "fresh".into(),
                    password: PASSWORD.into(),
                },
                &ctx("10.0.0.2"),
            )
            .await
            .unwrap();
        let taken = api
            .register(
                RegisterRequest {
                    email: "QUINN@example.com".into(),
                    username: "quinn_two".into(),
                    password: PASSWORD.into(),
                },
                &ctx("10.0.0.2"),
            )
            .await
            .unwrap();
        assert_eq!(taken.email, "QUINN@example.com");
        assert_eq!(taken.username, "quinn_two");
        assert_eq!(
            (taken.email_verified, taken.two_factor_enabled),
            (fresh.email_verified, fresh.two_factor_enabled)
        );
        assert_ne!(taken.id, owner.user_id, "the owner's id is not handed out");
        assert_eq!(
            outbox::store(&db)
                .fetch_unpublished(100)
                .await
                .unwrap()
                .len(),
            events_before + 1,
            "only the fresh registration wrote an event"
        );
        // The owner hears about it, with a way back in.
        let reset = h
            .mailer
            .last_token("quinn@example.com", "account_exists")
            .expect("the owner was told");
        api.reset_password(&reset, "a brand new passphrase 9")
            .await
            .unwrap();
        // No account named quinn_two exists; its password logs nobody in.
        let err = login_as(api, LoginRequest::new("quinn_two", PASSWORD), "10.0.0.3")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        // Usernames are public: a taken one is said, whatever the email.
        for email in ["other@example.com", "quinn@example.com"] {
            let err = api
                .register(
                    RegisterRequest {
                        email: email.into(),
                        username: "Quinn".into(),
                        password: PASSWORD.into(),
                    },
                    &ctx("10.0.0.4"),
                )
                .await
                .unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Conflict, "{email}");
            assert!(err.message().starts_with("username"), "{err}");
        }
    }

    /// Item 12: the generated signing key is stored sealed under the key-encryption key;
    /// a plain PEM row from before is sealed on load; another KEK cannot load it.
    pub async fn signing_keys_are_sealed_at_rest(db: Db) {
        let store = SqlIdentityStore::new(db.clone());
        let clock = nova_core::SystemClock::shared();
        let kek = SecretBox::generate("kek1");
        let keys = keys_from_store(&store, &clock, &kek).await.unwrap();
        let stored = store.signing_keys().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].1.contains("PRIVATE KEY"), "{}", stored[0].1);
        assert!(stored[0].1.starts_with("kek1."));
        // Same KEK: the same key comes back.
        let again = keys_from_store(&store, &clock, &kek).await.unwrap();
        assert_eq!(again.jwks(), keys.jwks());
        // Another KEK cannot read it, and says which variable to fix.
        let err = keys_from_store(&store, &clock, &SecretBox::generate("kek2"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("IDENTITY_ENCRYPTION_KEYS"),
            "{err}"
        );

        // A row written before keys were sealed (plain PEM) is sealed on load.
        let db2 = db.clone();
        let legacy = nova_identity::SigningKey::generate("k0-legacy").unwrap();
        let pem = legacy.to_pkcs8_pem().unwrap();
        // Older than the generated key, so the generated key stays the active one.
        store
            .insert_signing_key("k0-legacy", &pem, chrono::DateTime::UNIX_EPOCH)
            .await
            .unwrap();
        let with_legacy = keys_from_store(&store, &clock, &kek).await.unwrap();
        let kids: Vec<String> = with_legacy.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert!(kids.contains(&"k0-legacy".to_owned()), "{kids:?}");
        for (kid, value) in SqlIdentityStore::new(db2).signing_keys().await.unwrap() {
            assert!(!value.contains("PRIVATE KEY"), "{kid} still in plain text");
        }
    }
}

nova_testkit::db_conformance_suite!(suite:
    wrong_codes_lock_the_factor_across_fresh_challenges,
    concurrent_codes_cannot_overrun_the_second_factor_budget,
    login_budget_is_reserved_before_the_hash,
    account_budget_is_keyed_by_account_and_spares_the_owner,
    a_login_with_its_second_factor_passes_a_spent_account_budget,
    a_full_hashing_queue_answers_unavailable,
    registration_does_not_reveal_existing_emails,
    signing_keys_are_sealed_at_rest,
);

/// Item 6 over REST: the overflow is a 503 with `Retry-After`, not a hang or a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_503_with_retry_after_when_hashing_is_full() {
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    let backend = nova_testkit::sqlite().await;
    let h = harness_full(
        backend.db().clone(),
        IdentityConfig::default(),
        OAuthProviders::default(),
        Some(
            Passwords::with_params(8192, 1, 1)
                .unwrap()
                .with_limits(HashLimits {
                    max_concurrent: 1,
                    max_queued: 1,
                    max_wait: Duration::from_secs(30),
                }),
        ),
    );
    let router = nova_identity::http::router(h.service.clone());
    // Ten: the edge's login budget (10 a minute per address, `nova_kv::edge`) would
    // answer an eleventh with 429 before it reached the hashing queue.
    let requests = (0..10).map(|i| {
        let router = router.clone();
        async move {
            let body = format!(r#"{{"identifier":"flood{i}","password":"guess guess guess"}}"#);
            router
                .oneshot(
                    Request::post("/api/v1/auth/login")
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(axum::body::Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap()
        }
    });
    let responses = futures::future::join_all(requests).await;
    let busy: Vec<_> = responses
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "no request was turned away");
    for r in &busy {
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
    for r in &responses {
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(&r.status()),
            "{}",
            r.status()
        );
    }
}
