//! The identity store conformance suite, run on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use chrono::{Duration, Utc};
use nova_core::{ErrorKind, SessionId, Timestamp, UserId};
use nova_db::Db;
use nova_events::{EventEnvelope, outbox};
use nova_identity::store::{
    AccountRecord, IdentityStore, OAuthFlow, OneTimeToken, RefreshRecord, SessionRecord,
    SqlIdentityStore, TokenPurpose,
};

fn now() -> Timestamp {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

fn account(email: &str, username: &str) -> AccountRecord {
    AccountRecord {
        id: UserId::new(),
        email: email.into(),
        email_verified_at: None,
        username: username.into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into()),
        totp_secret_enc: None,
        totp_enabled_at: None,
        totp_last_step: None,
        created_at: now(),
    }
}

fn token(user: UserId, purpose: TokenPurpose, ttl: Duration) -> OneTimeToken {
    OneTimeToken {
        token_hash: UserId::new().as_uuid().as_bytes().to_vec(),
        user_id: user,
        purpose,
        created_at: now(),
        expires_at: now() + ttl,
    }
}

async fn registered(store: &SqlIdentityStore, email: &str, username: &str) -> AccountRecord {
    let a = account(email, username);
    store
        .create_account(
            &a,
            &token(a.id, TokenPurpose::VerifyEmail, Duration::hours(1)),
            &[],
        )
        .await
        .unwrap();
    a
}

fn session_for(user: UserId) -> (SessionRecord, RefreshRecord) {
    let s = SessionRecord {
        id: SessionId::new(),
        user_id: user,
        user_agent: "test".into(),
        ip: "127.0.0.1".into(),
        created_at: now(),
        last_seen_at: now(),
        revoked_at: None,
    };
    let r = refresh(s.id);
    (s, r)
}

fn refresh(session: SessionId) -> RefreshRecord {
    RefreshRecord {
        token_hash: UserId::new().as_uuid().as_bytes().to_vec(),
        session_id: session,
        issued_at: now(),
        expires_at: now() + Duration::days(30),
        rotated_at: None,
        replaced_by: None,
    }
}

mod suite {
    use super::*;

    pub async fn accounts_are_found_case_insensitively(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "Alice@Example.com", "Alice_1").await;
        let by_email = store.account_by_email("alice@EXAMPLE.COM").await.unwrap();
        assert_eq!(by_email.as_ref().map(|x| x.id), Some(a.id));
        assert_eq!(by_email.unwrap(), a);
        let by_name = store.account_by_username("ALICE_1").await.unwrap();
        assert_eq!(by_name.map(|x| x.id), Some(a.id));
        assert_eq!(
            store.account_by_id(a.id).await.unwrap().map(|x| x.username),
            Some("Alice_1".into())
        );
        assert!(
            store
                .account_by_email("bob@example.com")
                .await
                .unwrap()
                .is_none()
        );
    }

    pub async fn taken_email_or_username_is_a_conflict_naming_the_field(db: Db) {
        let store = SqlIdentityStore::new(db.clone());
        registered(&store, "a@example.com", "alice").await;
        let e = account("A@EXAMPLE.COM", "other");
        let err = store
            .create_account(
                &e,
                &token(e.id, TokenPurpose::VerifyEmail, Duration::hours(1)),
                &[],
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        assert!(err.message().starts_with("email"), "{err}");
        let u = account("b@example.com", "ALICE");
        let err = store
            .create_account(
                &u,
                &token(u.id, TokenPurpose::VerifyEmail, Duration::hours(1)),
                &[],
            )
            .await
            .unwrap_err();
        assert!(err.message().starts_with("username"), "{err}");
        // Nothing of the failed registrations was written, events included.
        assert!(
            store
                .account_by_email("b@example.com")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            outbox::store(&db)
                .fetch_unpublished(10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn registration_events_commit_with_the_account(db: Db) {
        let store = SqlIdentityStore::new(db.clone());
        let a = account("e@example.com", "evan");
        let event = EventEnvelope::new("user.registered", a.id.to_string(), now(), vec![1]);
        store
            .create_account(
                &a,
                &token(a.id, TokenPurpose::VerifyEmail, Duration::hours(1)),
                std::slice::from_ref(&event),
            )
            .await
            .unwrap();
        assert_eq!(
            outbox::store(&db).fetch_unpublished(10).await.unwrap(),
            vec![event]
        );
    }

    pub async fn one_time_tokens_are_single_use_expiring_and_purpose_bound(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "t@example.com", "tess").await;
        let t = token(a.id, TokenPurpose::PasswordReset, Duration::minutes(30));
        store.insert_one_time_token(&t).await.unwrap();
        assert_eq!(
            store
                .consume_one_time_token(&t.token_hash, TokenPurpose::VerifyEmail, now())
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .consume_one_time_token(&t.token_hash, TokenPurpose::PasswordReset, now())
                .await
                .unwrap(),
            Some(a.id)
        );
        assert_eq!(
            store
                .consume_one_time_token(&t.token_hash, TokenPurpose::PasswordReset, now())
                .await
                .unwrap(),
            None
        );
        let old = token(a.id, TokenPurpose::PasswordReset, Duration::minutes(30));
        store.insert_one_time_token(&old).await.unwrap();
        let later = now() + Duration::hours(1);
        assert_eq!(
            store
                .consume_one_time_token(&old.token_hash, TokenPurpose::PasswordReset, later)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn a_refresh_token_rotates_exactly_once_under_concurrency(db: Db) {
        let store = std::sync::Arc::new(SqlIdentityStore::new(db));
        let a = registered(&store, "r@example.com", "rita").await;
        let (s, first) = session_for(a.id);
        store.create_session(&s, &first, &[]).await.unwrap();
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let (store, old) = (store.clone(), first.token_hash.clone());
                let next = refresh(s.id);
                tokio::spawn(async move {
                    store
                        .rotate_refresh_token(&old, &next, now())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut wins = 0;
        for a in attempts {
            wins += a.await.unwrap() as u32;
        }
        assert_eq!(wins, 1, "only one concurrent refresh may win");
        let old = store
            .refresh_token(&first.token_hash)
            .await
            .unwrap()
            .unwrap();
        assert!(old.rotated_at.is_some());
        let current = store.current_refresh_token(s.id).await.unwrap().unwrap();
        assert_eq!(old.replaced_by, Some(current.token_hash));
    }

    pub async fn revoking_ends_only_active_sessions_and_writes_events_once(db: Db) {
        let store = SqlIdentityStore::new(db.clone());
        let a = registered(&store, "s@example.com", "sam").await;
        let (s1, r1) = session_for(a.id);
        let (s2, r2) = session_for(a.id);
        store.create_session(&s1, &r1, &[]).await.unwrap();
        store.create_session(&s2, &r2, &[]).await.unwrap();
        assert_eq!(store.active_sessions(a.id).await.unwrap().len(), 2);
        let ev = EventEnvelope::new("session.revoked", s1.id.to_string(), now(), vec![]);
        assert_eq!(
            store
                .revoke_sessions(&[s1.id], "logout", now(), &[ev])
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .revoke_sessions(
                    &[s1.id],
                    "logout",
                    now(),
                    &[EventEnvelope::new("session.revoked", "x", now(), vec![])]
                )
                .await
                .unwrap(),
            0
        );
        let left = store.active_sessions(a.id).await.unwrap();
        assert_eq!(left.iter().map(|s| s.id).collect::<Vec<_>>(), vec![s2.id]);
        assert!(
            store
                .session(s1.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        assert_eq!(
            outbox::store(&db)
                .fetch_unpublished(10)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    pub async fn password_change_revokes_the_given_sessions(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "p@example.com", "pat").await;
        let (s1, r1) = session_for(a.id);
        let (s2, r2) = session_for(a.id);
        store.create_session(&s1, &r1, &[]).await.unwrap();
        store.create_session(&s2, &r2, &[]).await.unwrap();
        store
            .set_password(a.id, "new-hash", &[s2.id], now(), &[])
            .await
            .unwrap();
        let acc = store.account_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(acc.password_hash.as_deref(), Some("new-hash"));
        let left: Vec<_> = store
            .active_sessions(a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, vec![s1.id]);
    }

    pub async fn totp_steps_only_move_forward_and_recovery_codes_work_once(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "o@example.com", "otto").await;
        store
            .set_totp_secret(a.id, Some("enc-secret"), now())
            .await
            .unwrap();
        let acc = store.account_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(acc.totp_secret_enc.as_deref(), Some("enc-secret"));
        assert!(acc.totp_enabled_at.is_none());
        store
            .enable_totp(a.id, 100, &["h1".into(), "h2".into()], now())
            .await
            .unwrap();
        assert!(!store.advance_totp_step(a.id, 100).await.unwrap());
        assert!(!store.advance_totp_step(a.id, 99).await.unwrap());
        assert!(store.advance_totp_step(a.id, 101).await.unwrap());
        let mut codes = store.recovery_codes(a.id).await.unwrap();
        codes.sort();
        assert_eq!(codes, vec!["h1".to_string(), "h2".to_string()]);
        assert!(store.delete_recovery_code(a.id, "h1").await.unwrap());
        assert!(!store.delete_recovery_code(a.id, "h1").await.unwrap());
        store.set_totp_secret(a.id, None, now()).await.unwrap();
        assert!(store.recovery_codes(a.id).await.unwrap().is_empty());
        assert!(
            store
                .account_by_id(a.id)
                .await
                .unwrap()
                .unwrap()
                .totp_secret_enc
                .is_none()
        );
    }

    pub async fn login_challenges_count_attempts_expire_and_are_single_use(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "c@example.com", "cleo").await;
        store
            .create_challenge(b"chal", a.id, now() + Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(
            store.attempt_challenge(b"chal", now()).await.unwrap(),
            Some((a.id, 1))
        );
        assert_eq!(
            store.attempt_challenge(b"chal", now()).await.unwrap(),
            Some((a.id, 2))
        );
        assert_eq!(
            store
                .attempt_challenge(b"chal", now() + Duration::minutes(6))
                .await
                .unwrap(),
            None
        );
        assert!(store.consume_challenge(b"chal", now()).await.unwrap());
        assert!(!store.consume_challenge(b"chal", now()).await.unwrap());
        assert_eq!(store.attempt_challenge(b"chal", now()).await.unwrap(), None);
    }

    pub async fn oauth_flows_are_taken_once_and_expire(db: Db) {
        let store = SqlIdentityStore::new(db);
        let flow = OAuthFlow {
            state_hash: b"state".to_vec(),
            provider: "google".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            redirect_uri: "http://localhost/cb".into(),
            created_at: now(),
            expires_at: now() + Duration::minutes(10),
        };
        store.save_oauth_flow(&flow).await.unwrap();
        assert_eq!(
            store.take_oauth_flow(b"state", now()).await.unwrap(),
            Some(flow.clone())
        );
        assert_eq!(store.take_oauth_flow(b"state", now()).await.unwrap(), None);
        let stale = OAuthFlow {
            state_hash: b"old".to_vec(),
            ..flow
        };
        store.save_oauth_flow(&stale).await.unwrap();
        assert_eq!(
            store
                .take_oauth_flow(b"old", now() + Duration::hours(1))
                .await
                .unwrap(),
            None
        );
    }

    pub async fn roles_are_granted_and_revoked_once_with_their_events(db: Db) {
        let store = SqlIdentityStore::new(db.clone());
        let a = registered(&store, "staff@example.com", "staff").await;
        assert!(store.roles(a.id).await.unwrap().is_empty());
        let event = || EventEnvelope::new("identity.role_changed", a.id.to_string(), now(), vec![]);
        assert!(
            store
                .set_role(a.id, "moderator", true, now(), &[event()])
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_role(a.id, "moderator", true, now(), &[event()])
                .await
                .unwrap()
        );
        assert!(
            store
                .set_role(a.id, "admin", true, now(), &[event()])
                .await
                .unwrap()
        );
        assert_eq!(store.roles(a.id).await.unwrap(), vec!["admin", "moderator"]);
        assert!(
            store
                .set_role(a.id, "moderator", false, now(), &[event()])
                .await
                .unwrap()
        );
        assert_eq!(store.roles(a.id).await.unwrap(), vec!["admin"]);
        let events = outbox::store(&db)
            .fetch_unpublished(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "identity.role_changed")
            .count();
        assert_eq!(events, 3, "one event per change, none for a no-op");
        let missing = store
            .set_role(UserId::new(), "moderator", true, now(), &[event()])
            .await
            .unwrap_err();
        assert_eq!(*missing.kind(), ErrorKind::NotFound);
    }

    pub async fn suspensions_hold_until_lifted_or_lapsed(db: Db) {
        let store = SqlIdentityStore::new(db);
        let a = registered(&store, "sus@example.com", "sus").await;
        assert!(!store.suspended(a.id, now()).await.unwrap());
        store.set_suspension(a.id, "action-1", None).await.unwrap();
        assert!(store.suspended(a.id, now()).await.unwrap());
        assert!(
            !store.lift_suspension(a.id, "action-0").await.unwrap(),
            "another action's reversal"
        );
        assert!(store.suspended(a.id, now()).await.unwrap());
        assert!(store.lift_suspension(a.id, "action-1").await.unwrap());
        assert!(!store.suspended(a.id, now()).await.unwrap());
        store
            .set_suspension(a.id, "action-2", Some(now() + Duration::hours(1)))
            .await
            .unwrap();
        assert!(store.suspended(a.id, now()).await.unwrap());
        assert!(
            !store
                .suspended(a.id, now() + Duration::hours(2))
                .await
                .unwrap(),
            "lapsed"
        );
    }

    pub async fn signing_keys_are_kept_once_per_kid(db: Db) {
        let store = SqlIdentityStore::new(db);
        store
            .insert_signing_key("k1", "pem-1", now())
            .await
            .unwrap();
        store
            .insert_signing_key("k1", "pem-other", now())
            .await
            .unwrap();
        assert_eq!(
            store.signing_keys().await.unwrap(),
            vec![("k1".to_string(), "pem-1".to_string())]
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    accounts_are_found_case_insensitively,
    taken_email_or_username_is_a_conflict_naming_the_field,
    registration_events_commit_with_the_account,
    one_time_tokens_are_single_use_expiring_and_purpose_bound,
    a_refresh_token_rotates_exactly_once_under_concurrency,
    revoking_ends_only_active_sessions_and_writes_events_once,
    password_change_revokes_the_given_sessions,
    totp_steps_only_move_forward_and_recovery_codes_work_once,
    login_challenges_count_attempts_expire_and_are_single_use,
    oauth_flows_are_taken_once_and_expire,
    signing_keys_are_kept_once_per_kid,
    roles_are_granted_and_revoked_once_with_their_events,
    suspensions_hold_until_lifted_or_lapsed,
);
