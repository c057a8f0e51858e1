//! IdentityService end to end on SQLite and PostgreSQL: the rules users rely on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{PASSWORD, harness, harness_with};
use nova_core::{Clock, ErrorKind, Principal};
use nova_db::Db;
use nova_events::outbox;
use nova_identity::model::{
    LoginOutcome, LoginRequest, RegisterRequest, RequestContext, TokenPair,
};
use nova_identity::{IdentityApi, IdentityConfig, OAuthProviders, Totp, TotpSecret};

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

async fn login(
    api: &dyn IdentityApi,
    name: &str,
    password: &str,
    ip: &str,
) -> nova_core::Result<LoginOutcome> {
    api.login(
        LoginRequest {
            identifier: name.into(),
            password: password.into(),
            device_token: None,
            code: None,
        },
        &ctx(ip),
    )
    .await
}

async fn tokens(api: &dyn IdentityApi, name: &str) -> TokenPair {
    match login(api, name, PASSWORD, "10.0.0.1").await.unwrap() {
        LoginOutcome::Authenticated(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

fn principal(t: &TokenPair) -> Principal {
    Principal::user(t.user_id, t.session_id)
}

mod suite {
    use super::*;

    pub async fn register_verify_login_and_events(db: Db) {
        let h = harness(db.clone());
        let api = h.service.as_ref();
        register(api, "alice").await;
        let account = api
            .account(&principal(&tokens(api, "alice").await))
            .await
            .unwrap();
        assert!(!account.email_verified);
        let token = h
            .mailer
            .last_token("alice@example.com", "verify_email")
            .unwrap();
        api.verify_email(&token).await.unwrap();
        // Single use.
        assert_eq!(
            api.verify_email(&token).await.unwrap_err().field(),
            Some("token")
        );
        let t = tokens(api, "ALICE@example.com").await;
        assert!(api.account(&principal(&t)).await.unwrap().email_verified);
        assert_eq!(
            api.verify_access_token(&t.access_token)
                .await
                .unwrap()
                .user_id,
            t.user_id
        );
        let types: Vec<String> = outbox::store(&db)
            .fetch_unpublished(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            types,
            [
                "user.registered",
                "session.created",
                "user.email_verified",
                "session.created"
            ]
        );
    }

    pub async fn duplicate_registration_is_a_conflict_and_bad_input_names_the_field(db: Db) {
        let h = harness(db.clone());
        let api = h.service.as_ref();
        register(api, "bob").await;
        // A taken username is a conflict; a taken email is not said (tests/security.rs).
        let again = RegisterRequest {
            email: "bobby@example.com".into(),
            username: "BOB".into(),
            password: PASSWORD.into(),
        };
        assert_eq!(
            api.register(again, &ctx("10.0.0.2"))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );
        for (req, field) in [
            (
                RegisterRequest {
                    email: "nope".into(),
                    username: "carol".into(),
                    password: PASSWORD.into(),
                },
                "email",
            ),
            (
                RegisterRequest {
                    email: "c@example.com".into(),
                    username: "c".into(),
                    password: PASSWORD.into(),
                },
                "username",
            ),
            (
                RegisterRequest {
                    email: "c@example.com".into(),
                    username: "admin".into(),
                    password: PASSWORD.into(),
                },
                "username",
            ),
            (
                RegisterRequest {
                    email: "c@example.com".into(),
                    username: "carol".into(),
                    password: "short".into(),
                },
                "password",
            ),
            (
                RegisterRequest {
                    email: "c@example.com".into(),
                    username: "carol".into(),
                    password: "password1234".into(),
                },
                "password",
            ),
            (
                RegisterRequest {
                    email: "c@example.com".into(),
                    username: "carol".into(),
                    password: "x".repeat(129),
                },
                "password",
            ),
        ] {
            assert_eq!(
                api.register(req, &ctx("10.0.0.3"))
                    .await
                    .unwrap_err()
                    .field(),
                Some(field)
            );
        }
        assert_eq!(
            outbox::store(&db)
                .fetch_unpublished(100)
                .await
                .unwrap()
                .len(),
            1,
            "only bob's registration wrote an event"
        );
    }

    pub async fn unknown_account_and_wrong_password_get_identical_answers(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "dave").await;
        let unknown = login(api, "nobody@example.com", PASSWORD, "10.0.0.4")
            .await
            .unwrap_err();
        let wrong = login(api, "dave@example.com", "wrong password here", "10.0.0.5")
            .await
            .unwrap_err();
        assert_eq!(unknown.kind(), &ErrorKind::Unauthenticated);
        assert_eq!(
            (unknown.kind(), unknown.message()),
            (wrong.kind(), wrong.message())
        );
        assert_eq!(
            unknown.client_body().to_string_for_test(),
            wrong.client_body().to_string_for_test()
        );
    }

    pub async fn the_101st_failed_login_within_the_hour_is_rate_limited(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "erin").await;
        // Spread over addresses so only the per-account budget (100/hour) applies.
        for i in 0..100 {
            let err = login(
                api,
                "erin",
                "not the password!",
                &format!("10.1.{}.{}", i / 250, i % 250),
            )
            .await
            .unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "attempt {}", i + 1);
        }
        let err = login(api, "erin", PASSWORD, "10.9.9.9").await.unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::RateLimited,
            "even the right password waits"
        );
        h.clock.advance(chrono::Duration::minutes(61));
        assert!(matches!(
            login(api, "erin", PASSWORD, "10.9.9.9").await.unwrap(),
            LoginOutcome::Authenticated(_)
        ));
    }

    pub async fn per_address_budget_stops_spraying(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        for i in 0..25 {
            login(
                api,
                &format!("user{i}@example.com"),
                "guess guess guess",
                "10.2.0.1",
            )
            .await
            .unwrap_err();
        }
        let err = login(api, "someone@example.com", "guess guess guess", "10.2.0.1")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::RateLimited);
    }

    pub async fn refresh_rotates_and_reuse_revokes_the_family(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "frank").await;
        let first = tokens(api, "frank").await;
        let second = api
            .refresh(&first.refresh_token, &ctx("10.0.0.1"))
            .await
            .unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.session_id, first.session_id);
        let third = api
            .refresh(&second.refresh_token, &ctx("10.0.0.1"))
            .await
            .unwrap();
        // Past the grace period, presenting an old token means it leaked: the family dies.
        h.clock.advance(chrono::Duration::seconds(30));
        let err = api
            .refresh(&first.refresh_token, &ctx("10.6.6.6"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        assert_eq!(
            api.refresh(&third.refresh_token, &ctx("10.0.0.1"))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        assert_eq!(
            api.verify_access_token(&third.access_token)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        assert!(api.sessions(&principal(&first)).await.unwrap().is_empty());
    }

    pub async fn only_the_immediate_predecessor_gets_a_grace_period(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "gina").await;
        let first = tokens(api, "gina").await;
        let second = api
            .refresh(&first.refresh_token, &ctx("10.0.0.1"))
            .await
            .unwrap();
        // The client lost the answer and retries at once with the same token: fine.
        let retry = api
            .refresh(&first.refresh_token, &ctx("10.0.0.1"))
            .await
            .unwrap();
        assert_ne!(retry.refresh_token, second.refresh_token);
        // But `first` is now two generations old: reuse, family revoked.
        assert!(
            api.refresh(&first.refresh_token, &ctx("10.0.0.1"))
                .await
                .is_err()
        );
        assert!(
            api.refresh(&retry.refresh_token, &ctx("10.0.0.1"))
                .await
                .is_err()
        );
    }

    pub async fn sessions_logout_and_password_change(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "hank").await;
        register(api, "ivy").await;
        let phone = tokens(api, "hank").await;
        let laptop = tokens(api, "hank").await;
        let ivy = tokens(api, "ivy").await;
        let listed = api.sessions(&principal(&phone)).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
        // Someone else's session looks missing.
        let err = api
            .revoke_session(&principal(&ivy), laptop.session_id)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NotFound);
        // A password change keeps the current session and ends the others.
        let bad = api
            .change_password(
                &principal(&phone),
                "wrong current pw",
                "a brand new passphrase",
            )
            .await
            .unwrap_err();
        assert_eq!(bad.field(), Some("current_password"));
        api.change_password(&principal(&phone), PASSWORD, "a brand new passphrase")
            .await
            .unwrap();
        assert!(api.verify_access_token(&phone.access_token).await.is_ok());
        assert!(api.verify_access_token(&laptop.access_token).await.is_err());
        assert!(
            api.refresh(&laptop.refresh_token, &ctx("10.0.0.1"))
                .await
                .is_err()
        );
        assert!(login(api, "hank", PASSWORD, "10.0.0.1").await.is_err());
        assert!(
            login(api, "hank", "a brand new passphrase", "10.0.0.1")
                .await
                .is_ok()
        );
        api.logout(&principal(&phone)).await.unwrap();
        assert!(api.verify_access_token(&phone.access_token).await.is_err());
    }

    /// Logout, logout everywhere and a password change reach a verifier that checks
    /// tokens against identity's published keys (as every other service does) through
    /// the `session.revoked` events and the consumer every such process runs.
    pub async fn ended_sessions_reach_jwks_verifiers(db: Db) {
        use std::sync::Arc;

        use nova_auth::{Authenticator, JwksAuthenticator, LocalRevocations, Revocations};
        use nova_events::EventHandler;
        use nova_identity::revocations::RevocationRecorder;

        let h = harness(db.clone());
        let api = h.service.as_ref();
        register(api, "kim").await;
        register(api, "lou").await;
        let (phone, laptop, tablet) = (
            tokens(api, "kim").await,
            tokens(api, "kim").await,
            tokens(api, "kim").await,
        );
        let lou = tokens(api, "lou").await;

        let keys = common::KEYS.jwks();
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || async move { axum::Json(keys) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let revocations = Arc::new(LocalRevocations::default());
        let verifier = JwksAuthenticator::new(
            url,
            nova_identity::TokenConfig::new("nova", "nova"),
            h.clock.shared(),
        )
        .with_revocations(revocations.clone() as Arc<dyn Revocations>);
        let recorder = RevocationRecorder::new(revocations);
        // The consumer: every event identity wrote so far (others are skipped).
        let deliver = || async {
            for event in outbox::store(&db).fetch_unpublished(1000).await.unwrap() {
                recorder.handle(&event).await.unwrap();
            }
        };
        let accepted = |t: &TokenPair| {
            let token = t.access_token.clone();
            let verifier = &verifier;
            async move { verifier.authenticate(&token).await.is_ok() }
        };
        deliver().await;
        for t in [&phone, &laptop, &tablet, &lou] {
            assert!(accepted(t).await, "a live session is accepted");
        }

        api.logout(&principal(&phone)).await.unwrap();
        // Until the event is consumed the signature alone would still pass.
        assert!(accepted(&phone).await);
        deliver().await;
        let err = verifier
            .authenticate(&phone.access_token)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        assert!(accepted(&laptop).await);
        // Open connections (subscriptions) ask both verifiers whether their session ended.
        assert!(verifier.session_ended(phone.session_id).await.unwrap());
        assert!(!verifier.session_ended(laptop.session_id).await.unwrap());
        assert!(api.session_ended(phone.session_id).await.unwrap());
        assert!(!api.session_ended(laptop.session_id).await.unwrap());

        // A password change ends the other sessions.
        api.change_password(&principal(&laptop), PASSWORD, "a brand new passphrase")
            .await
            .unwrap();
        deliver().await;
        assert!(!accepted(&tablet).await);
        assert!(accepted(&laptop).await);

        api.logout_everywhere(&principal(&laptop)).await.unwrap();
        deliver().await;
        assert!(!accepted(&laptop).await);
        assert!(accepted(&lou).await, "another user's session is untouched");
    }

    /// The users domain deletes an account and says so in `user.state_changed`; identity's
    /// consumer ends every session of it (each with `session.revoked`), and only on
    /// `deleted` (deactivation keeps the sessions).
    pub async fn a_deleted_account_loses_every_session(db: Db) {
        use nova_events::{EventEnvelope, EventHandler};
        use nova_identity::revocations::DeletedAccounts;
        use nova_proto::nova::user::v1::AccountStateChanged;
        use prost::Message;

        let h = harness(db.clone());
        let api = h.service.as_ref();
        register(api, "dora").await;
        register(api, "eli").await;
        let (phone, laptop, eli) = (
            tokens(api, "dora").await,
            tokens(api, "dora").await,
            tokens(api, "eli").await,
        );
        let consumer = DeletedAccounts::new(h.service.clone());
        let changed = |state: &str| {
            let payload = AccountStateChanged {
                user_id: phone.user_id.to_string(),
                state: state.into(),
                actor_kind: "user".into(),
                actor_id: String::new(),
                reason: "leaving".into(),
            };
            EventEnvelope::new(
                nova_events::types::USER_STATE_CHANGED,
                phone.user_id.to_string(),
                chrono::Utc::now(),
                payload.encode_to_vec(),
            )
        };
        consumer.handle(&changed("deactivated")).await.unwrap();
        assert!(api.verify_access_token(&phone.access_token).await.is_ok());

        let deleted = changed("deleted");
        for _ in 0..2 {
            // Redelivered: still one revocation per session.
            consumer.handle(&deleted).await.unwrap();
        }
        for t in [&phone, &laptop] {
            assert!(api.verify_access_token(&t.access_token).await.is_err());
            assert!(
                api.refresh(&t.refresh_token, &ctx("10.0.0.1"))
                    .await
                    .is_err()
            );
        }
        assert!(api.verify_access_token(&eli.access_token).await.is_ok());
        let revoked = outbox::store(&db)
            .fetch_unpublished(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == nova_events::types::SESSION_REVOKED)
            .count();
        assert_eq!(revoked, 2, "one session.revoked per session");
    }

    pub async fn password_reset_is_single_use_and_ends_every_session(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "jack").await;
        let before = tokens(api, "jack").await;
        api.request_password_reset("jack@example.com", &ctx("10.0.0.1"))
            .await
            .unwrap();
        // Unknown addresses get the same answer and no email.
        api.request_password_reset("ghost@example.com", &ctx("10.0.0.1"))
            .await
            .unwrap();
        assert!(
            h.mailer
                .last_token("ghost@example.com", "password_reset")
                .is_none()
        );
        let token = h
            .mailer
            .last_token("jack@example.com", "password_reset")
            .unwrap();
        api.reset_password(&token, "reset to something long")
            .await
            .unwrap();
        assert_eq!(
            api.reset_password(&token, "another long passphrase")
                .await
                .unwrap_err()
                .field(),
            Some("token")
        );
        assert!(api.verify_access_token(&before.access_token).await.is_err());
        assert!(
            login(api, "jack", "reset to something long", "10.0.0.1")
                .await
                .is_ok()
        );
    }

    pub async fn totp_two_step_login_rejects_replay_and_recovery_codes_work_once(db: Db) {
        let h = harness(db);
        let api = h.service.as_ref();
        register(api, "kate").await;
        let t = tokens(api, "kate").await;
        let enrollment = api.enroll_totp(&principal(&t)).await.unwrap();
        assert!(enrollment.otpauth_uri.starts_with("otpauth://totp/"));
        let totp = Totp::new(
            &TotpSecret::from_base32(&enrollment.secret).unwrap(),
            "kate",
            h.clock.shared(),
        )
        .unwrap();
        let now = || h.clock.now().timestamp() as u64;
        let confirming = totp.code_at(now());
        let recovery = api.confirm_totp(&principal(&t), &confirming).await.unwrap();
        assert_eq!(recovery.len(), 10);

        // The confirming code cannot be replayed for a login.
        h.clock.advance(chrono::Duration::seconds(1));
        let LoginOutcome::TwoFactorRequired { challenge, .. } =
            login(api, "kate", PASSWORD, "10.0.0.1").await.unwrap()
        else {
            panic!("2FA must be required");
        };
        // The very code used to confirm (still inside its window), not "the code now":
        // one second later may already be the next time step.
        let replay = api
            .login_two_factor(&challenge, &confirming, &ctx("10.0.0.1"))
            .await
            .unwrap_err();
        assert_eq!(replay.kind(), &ErrorKind::Unauthenticated);
        h.clock.advance(chrono::Duration::seconds(30));
        let code = totp.code_at(now());
        api.login_two_factor(&challenge, &code, &ctx("10.0.0.1"))
            .await
            .unwrap();
        // A used challenge is gone; the same code on a fresh challenge is a replay.
        assert!(
            api.login_two_factor(&challenge, &code, &ctx("10.0.0.1"))
                .await
                .is_err()
        );
        let LoginOutcome::TwoFactorRequired { challenge, .. } =
            login(api, "kate", PASSWORD, "10.0.0.1").await.unwrap()
        else {
            panic!("2FA must be required");
        };
        assert!(
            api.login_two_factor(&challenge, &code, &ctx("10.0.0.1"))
                .await
                .is_err()
        );
        // A recovery code works once.
        api.login_two_factor(&challenge, &recovery[0], &ctx("10.0.0.1"))
            .await
            .unwrap();
        let LoginOutcome::TwoFactorRequired { challenge, .. } =
            login(api, "kate", PASSWORD, "10.0.0.1").await.unwrap()
        else {
            panic!("2FA must be required");
        };
        assert!(
            api.login_two_factor(&challenge, &recovery[0], &ctx("10.0.0.1"))
                .await
                .is_err()
        );
    }

    pub async fn two_factor_challenges_allow_few_attempts(db: Db) {
        let config = IdentityConfig {
            challenge_attempts: 3,
            ..IdentityConfig::default()
        };
        let h = harness_with(db, config, OAuthProviders::default());
        let api = h.service.as_ref();
        register(api, "liam").await;
        let t = tokens(api, "liam").await;
        let e = api.enroll_totp(&principal(&t)).await.unwrap();
        let totp = Totp::new(
            &TotpSecret::from_base32(&e.secret).unwrap(),
            "liam",
            h.clock.shared(),
        )
        .unwrap();
        api.confirm_totp(
            &principal(&t),
            &totp.code_at(h.clock.now().timestamp() as u64),
        )
        .await
        .unwrap();
        h.clock.advance(chrono::Duration::seconds(60));
        let LoginOutcome::TwoFactorRequired { challenge, .. } =
            login(api, "liam", PASSWORD, "10.0.0.1").await.unwrap()
        else {
            panic!("2FA must be required");
        };
        for _ in 0..3 {
            assert!(
                api.login_two_factor(&challenge, "000000", &ctx("10.0.0.1"))
                    .await
                    .is_err()
            );
        }
        let right = totp.code_at(h.clock.now().timestamp() as u64);
        assert_eq!(
            api.login_two_factor(&challenge, &right, &ctx("10.0.0.1"))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::RateLimited
        );
    }
}

trait BodyText {
    fn to_string_for_test(&self) -> String;
}

impl BodyText for nova_core::error::ErrorBody<'_> {
    fn to_string_for_test(&self) -> String {
        serde_json::to_string(self).unwrap()
    }
}

nova_testkit::db_conformance_suite!(suite:
    register_verify_login_and_events,
    duplicate_registration_is_a_conflict_and_bad_input_names_the_field,
    unknown_account_and_wrong_password_get_identical_answers,
    the_101st_failed_login_within_the_hour_is_rate_limited,
    per_address_budget_stops_spraying,
    refresh_rotates_and_reuse_revokes_the_family,
    only_the_immediate_predecessor_gets_a_grace_period,
    sessions_logout_and_password_change,
    ended_sessions_reach_jwks_verifiers,
    a_deleted_account_loses_every_session,
    password_reset_is_single_use_and_ends_every_session,
    totp_two_step_login_rejects_replay_and_recovery_codes_work_once,
    two_factor_challenges_allow_few_attempts,
);
