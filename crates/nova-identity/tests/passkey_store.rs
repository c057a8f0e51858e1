//! The passkey part of the identity store conformance suite, run on SQLite and
//! PostgreSQL: ceremonies, passkeys, the counter compare-and-set that opens a passkey
//! session, and the last-sign-in-method rule.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use chrono::{Duration, SubsecRound, Utc};
use nova_core::{ErrorKind, SessionId, Timestamp, UserId};
use nova_db::Db;
use nova_identity::model::PasskeyId;
use nova_identity::store::{
    AccountRecord, CeremonyRecord, IdentityStore, OAuthIdentity, OneTimeToken, PasskeyRecord,
    PasskeyRemoval, PasskeyStore, PasskeyUse, RefreshRecord, SessionRecord, SqlIdentityStore,
    TokenPurpose,
};

fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

async fn account(store: &SqlIdentityStore, name: &str, password: bool) -> UserId {
    let id = UserId::new();
    let account = AccountRecord {
        id,
        email: format!("{name}@example.com"),
        email_verified_at: None,
        username: name.into(),
        password_hash: password.then(|| "$argon2id$v=19$m=19456,t=2,p=1$x$y".to_owned()),
        totp_secret_enc: None,
        totp_enabled_at: None,
        totp_last_step: None,
        created_at: now(),
    };
    let token = OneTimeToken {
        token_hash: id.as_uuid().as_bytes().to_vec(),
        user_id: id,
        purpose: TokenPurpose::VerifyEmail,
        created_at: now(),
        expires_at: now() + Duration::hours(1),
    };
    store.create_account(&account, &token, &[]).await.unwrap();
    id
}

fn passkey(user: UserId, credential: &[u8]) -> PasskeyRecord {
    PasskeyRecord {
        id: PasskeyId::new(),
        credential_id: credential.to_vec(),
        user_id: user,
        name: "Laptop".into(),
        passkey: r#"{"cred":{}}"#.into(),
        sign_count: 0,
        backup_eligible: true,
        backed_up: false,
        transports: "hybrid internal".into(),
        created_session_id: Some(SessionId::new()),
        created_at: now(),
        last_used_at: None,
        clone_warning_at: None,
    }
}

fn session(user: UserId) -> (SessionRecord, RefreshRecord) {
    let s = SessionRecord {
        id: SessionId::new(),
        user_id: user,
        user_agent: "test".into(),
        ip: "127.0.0.1".into(),
        created_at: now(),
        last_seen_at: now(),
        revoked_at: None,
    };
    let r = RefreshRecord {
        token_hash: s.id.as_uuid().as_bytes().to_vec(),
        session_id: s.id,
        issued_at: now(),
        expires_at: now() + Duration::days(30),
        rotated_at: None,
        replaced_by: None,
    };
    (s, r)
}

fn used(id: PasskeyId, count: i64) -> PasskeyUse {
    PasskeyUse {
        id,
        passkey: format!(r#"{{"cred":{{"counter":{count}}}}}"#),
        sign_count: count,
        backup_eligible: true,
        backed_up: true,
        used_at: now(),
    }
}

mod suite {
    use super::*;

    pub async fn ceremonies_are_taken_once_and_expire(db: Db) {
        let store = SqlIdentityStore::new(db);
        let user = account(&store, "ana", true).await;
        let ceremony = CeremonyRecord {
            ceremony_hash: b"ceremony".to_vec(),
            kind: "register".into(),
            user_id: Some(user),
            session_id: Some(SessionId::new()),
            state: "{}".into(),
            created_at: now(),
            expires_at: now() + Duration::minutes(5),
        };
        store.save_ceremony(&ceremony).await.unwrap();
        assert_eq!(
            store.take_ceremony(b"ceremony", now()).await.unwrap(),
            Some(ceremony.clone())
        );
        assert_eq!(store.take_ceremony(b"ceremony", now()).await.unwrap(), None);
        // Usernameless: no user, no session.
        let discoverable = CeremonyRecord {
            ceremony_hash: b"anyone".to_vec(),
            kind: "discoverable".into(),
            user_id: None,
            session_id: None,
            ..ceremony.clone()
        };
        store.save_ceremony(&discoverable).await.unwrap();
        let stale = CeremonyRecord {
            ceremony_hash: b"stale".to_vec(),
            ..ceremony.clone()
        };
        store.save_ceremony(&stale).await.unwrap();
        assert_eq!(
            store
                .take_ceremony(b"stale", now() + Duration::minutes(6))
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store.take_ceremony(b"anyone", now()).await.unwrap(),
            Some(discoverable)
        );
        // Saving a ceremony drops the expired ones.
        store.save_ceremony(&stale).await.unwrap();
        let later = CeremonyRecord {
            ceremony_hash: b"later".to_vec(),
            created_at: now() + Duration::minutes(10),
            expires_at: now() + Duration::minutes(15),
            ..ceremony
        };
        store.save_ceremony(&later).await.unwrap();
        assert_eq!(store.take_ceremony(b"stale", now()).await.unwrap(), None);
    }

    pub async fn passkeys_are_unique_listed_renamed_and_owned(db: Db) {
        let store = SqlIdentityStore::new(db);
        let ana = account(&store, "ana", true).await;
        let bo = account(&store, "bo", true).await;
        let first = passkey(ana, b"cred-1");
        store.insert_passkey(&first).await.unwrap();
        let second = PasskeyRecord {
            created_at: now() + Duration::seconds(1),
            ..passkey(ana, b"cred-2")
        };
        store.insert_passkey(&second).await.unwrap();
        // A credential id is registered once, whoever tries again.
        let err = store
            .insert_passkey(&passkey(bo, b"cred-1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        assert!(err.message().starts_with("credential"), "{err}");
        assert_eq!(
            store.passkeys(ana).await.unwrap(),
            vec![first.clone(), second.clone()]
        );
        assert_eq!(store.passkeys(bo).await.unwrap(), vec![]);
        assert_eq!(
            store.passkey_by_credential(b"cred-2").await.unwrap(),
            Some(second.clone())
        );
        assert_eq!(store.passkey_by_credential(b"nope").await.unwrap(), None);
        assert!(!store.rename_passkey(bo, first.id, "mine").await.unwrap());
        assert!(store.rename_passkey(ana, first.id, "Desk").await.unwrap());
        assert_eq!(store.passkeys(ana).await.unwrap()[0].name, "Desk");
        store.record_clone_warning(second.id, now()).await.unwrap();
        let warned = store
            .passkey_by_credential(b"cred-2")
            .await
            .unwrap()
            .unwrap();
        assert!(warned.clone_warning_at.is_some());
    }

    pub async fn a_passkey_session_needs_the_counter_to_move_forward(db: Db) {
        let store = SqlIdentityStore::new(db);
        let ana = account(&store, "ana", true).await;
        let key = passkey(ana, b"cred");
        store.insert_passkey(&key).await.unwrap();
        // Counter 0 and 0: an authenticator without a counter, every time.
        for _ in 0..2 {
            let (s, r) = session(ana);
            assert!(
                store
                    .create_passkey_session(&s, &r, &used(key.id, 0), &[])
                    .await
                    .unwrap()
            );
        }
        let (s, r) = session(ana);
        assert!(
            store
                .create_passkey_session(&s, &r, &used(key.id, 5), &[])
                .await
                .unwrap()
        );
        let stored = store.passkey_by_credential(b"cred").await.unwrap().unwrap();
        assert_eq!(stored.sign_count, 5);
        assert!(stored.backed_up && stored.last_used_at.is_some());
        assert!(stored.passkey.contains("5"));
        // Not forward (equal, lower, or back to 0): nothing written, no session.
        for count in [5, 4, 0] {
            let (s, r) = session(ana);
            assert!(
                !store
                    .create_passkey_session(&s, &r, &used(key.id, count), &[])
                    .await
                    .unwrap(),
                "{count}"
            );
            assert_eq!(store.session(s.id).await.unwrap(), None);
        }
        assert_eq!(store.active_sessions(ana).await.unwrap().len(), 3);
        assert_eq!(
            store
                .passkey_by_credential(b"cred")
                .await
                .unwrap()
                .unwrap()
                .sign_count,
            5
        );
    }

    pub async fn the_last_sign_in_method_is_kept_and_sessions_are_reported(db: Db) {
        let store = SqlIdentityStore::new(db);
        // No password, no provider: its only passkey stays.
        let pia = account(&store, "pia", false).await;
        let only = passkey(pia, b"pia-1");
        store.insert_passkey(&only).await.unwrap();
        assert_eq!(
            store.delete_passkey(pia, only.id).await.unwrap(),
            PasskeyRemoval::LastSignInMethod
        );
        // Another account's passkey, or a missing one, is not found.
        let bo = account(&store, "bo", true).await;
        assert_eq!(
            store.delete_passkey(bo, only.id).await.unwrap(),
            PasskeyRemoval::NotFound
        );
        assert_eq!(
            store.delete_passkey(pia, PasskeyId::new()).await.unwrap(),
            PasskeyRemoval::NotFound
        );
        // With a second passkey it may go; the sessions it opened are named.
        let second = passkey(pia, b"pia-2");
        store.insert_passkey(&second).await.unwrap();
        let (s, r) = session(pia);
        assert!(
            store
                .create_passkey_session(&s, &r, &used(only.id, 1), &[])
                .await
                .unwrap()
        );
        assert_eq!(
            store.delete_passkey(pia, only.id).await.unwrap(),
            PasskeyRemoval::Removed(vec![s.id])
        );
        // The session outlives the passkey (ending it is the service's choice).
        assert!(store.session(s.id).await.unwrap().is_some());
        assert_eq!(
            store.delete_passkey(pia, second.id).await.unwrap(),
            PasskeyRemoval::LastSignInMethod
        );
        // A linked provider is another way in.
        store
            .upsert_oauth_identity(&OAuthIdentity {
                provider: "google".into(),
                subject: "pia".into(),
                user_id: pia,
                email: None,
                access_token_enc: None,
                refresh_token_enc: None,
                key_id: "k".into(),
                created_at: now(),
                updated_at: now(),
            })
            .await
            .unwrap();
        assert_eq!(
            store.delete_passkey(pia, second.id).await.unwrap(),
            PasskeyRemoval::Removed(vec![])
        );
        // So is a password.
        let with_password = passkey(bo, b"bo-1");
        store.insert_passkey(&with_password).await.unwrap();
        assert_eq!(
            store.delete_passkey(bo, with_password.id).await.unwrap(),
            PasskeyRemoval::Removed(vec![])
        );
        assert_eq!(store.passkeys(bo).await.unwrap(), vec![]);
    }
}

nova_testkit::db_conformance_suite!(suite:
    ceremonies_are_taken_once_and_expire,
    passkeys_are_unique_listed_renamed_and_owned,
    a_passkey_session_needs_the_counter_to_move_forward,
    the_last_sign_in_method_is_kept_and_sessions_are_reported,
);
