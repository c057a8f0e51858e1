//! The SDK against the real key directory (SQLite and PostgreSQL): 1:1 across devices,
//! group rotation, tampering, pickling, key replenishment — and the server's tables
//! never hold plaintext.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod suite {
    use std::sync::Arc;

    use nova_core::{Principal, SessionId, UserId};
    use nova_db::{Db, DbResultExt, on_db, sqlx};
    use nova_e2ee::{
        DeviceId, EncryptedMessage, KeyDirectory, KeyDirectoryService, OutgoingMessage,
    };
    use nova_e2ee_client::{Client, ClientError, Decrypted, ONE_TIME_KEY_TARGET};

    fn directory(db: Db) -> Arc<dyn KeyDirectory> {
        Arc::new(KeyDirectoryService::sql(db))
    }

    async fn client(dir: &Arc<dyn KeyDirectory>, user: UserId, device: &str) -> Client {
        let principal = Principal::user(user, SessionId::new());
        Client::register(dir.clone(), principal, DeviceId::new(device).unwrap())
            .await
            .unwrap()
    }

    fn texts(results: Vec<nova_e2ee_client::Result<Decrypted>>) -> Vec<String> {
        results
            .into_iter()
            .map(|r| String::from_utf8(r.unwrap().plaintext).unwrap())
            .collect()
    }

    /// What the server would deliver for `m` sent by `from`.
    fn delivered(from: &Client, m: &OutgoingMessage, id: i64) -> EncryptedMessage {
        EncryptedMessage {
            id,
            sender: from.address().clone(),
            algorithm: m.algorithm,
            session_id: m.session_id.clone(),
            ciphertext: m.ciphertext.clone(),
            created_at: chrono::Utc::now(),
        }
    }

    pub async fn one_to_one_reaches_every_device(db: Db) {
        let dir = directory(db);
        let (ann, bob) = (UserId::new(), UserId::new());
        let mut ann_phone = client(&dir, ann, "phone").await;
        let mut ann_laptop = client(&dir, ann, "laptop").await;
        let mut bob_phone = client(&dir, bob, "phone").await;

        let out = bob_phone.encrypt_for_user(ann, b"hello ann").await.unwrap();
        assert_eq!(out.len(), 2, "one Olm message per device of Ann");
        bob_phone.send(out).await.unwrap();
        assert_eq!(texts(ann_phone.sync().await.unwrap()), ["hello ann"]);
        assert_eq!(texts(ann_laptop.sync().await.unwrap()), ["hello ann"]);
        assert!(ann_phone.sync().await.unwrap().is_empty(), "acknowledged");

        for i in 0..5 {
            let reply = ann_phone
                .encrypt_for_user(bob, format!("reply {i}").as_bytes())
                .await
                .unwrap();
            ann_phone.send(reply).await.unwrap();
        }
        let more = bob_phone.encrypt_for_user(ann, b"and again").await.unwrap();
        bob_phone.send(more).await.unwrap();
        let got = bob_phone.sync().await.unwrap();
        assert_eq!(
            texts(got),
            ["reply 0", "reply 1", "reply 2", "reply 3", "reply 4"]
        );
        assert_eq!(texts(ann_phone.sync().await.unwrap()), ["and again"]);
        assert_eq!(texts(ann_laptop.sync().await.unwrap()), ["and again"]);
    }

    pub async fn group_sessions_rotate_when_a_device_leaves(db: Db) {
        let dir = directory(db);
        let (ann, bob, cat, dan) = (UserId::new(), UserId::new(), UserId::new(), UserId::new());
        let mut a = client(&dir, ann, "a").await;
        let mut b = client(&dir, bob, "b").await;
        let mut c = client(&dir, cat, "c").await;
        let mut d = client(&dir, dan, "d").await;

        let first = a
            .encrypt_for_group("room", &[bob, cat], b"hi all")
            .await
            .unwrap();
        assert_eq!(first.len(), 3, "two key shares and the group message");
        let old_session = a.device().group_session_id("room").unwrap();
        let old_message = first.last().unwrap().clone();
        a.send(first).await.unwrap();
        assert_eq!(texts(b.sync().await.unwrap()), ["hi all"]);
        assert_eq!(texts(c.sync().await.unwrap()), ["hi all"]);

        // Same members: no new key, the same session.
        let again = a
            .encrypt_for_group("room", &[bob, cat], b"still here")
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        a.send(again).await.unwrap();

        // Cat leaves, Dan joins: a new session shared with Bob and Dan only.
        let after = a
            .encrypt_for_group("room", &[bob, dan], b"cat is gone")
            .await
            .unwrap();
        let new_session = a.device().group_session_id("room").unwrap();
        assert_ne!(new_session, old_session, "rotated on departure");
        let secret = after.last().unwrap().clone();
        assert_eq!(secret.recipients.len(), 2);
        a.send(after).await.unwrap();
        assert_eq!(
            texts(b.sync().await.unwrap()),
            ["still here", "cat is gone"]
        );
        assert_eq!(texts(c.sync().await.unwrap()), ["still here"]);
        assert_eq!(texts(d.sync().await.unwrap()), ["cat is gone"]);
        // Cat, given the new ciphertext anyway, cannot read it; Dan cannot read the past.
        let leaked = delivered(&a, &secret, 9_999);
        assert!(matches!(
            c.receive(&leaked).await,
            Err(ClientError::UnknownGroupSession(_))
        ));
        let past = delivered(&a, &old_message, 9_998);
        assert!(d.receive(&past).await.is_err());
        // Bob replaying a message he already read is refused.
        assert!(matches!(b.receive(&leaked).await, Err(ClientError::Replay)));
    }

    pub async fn tampered_ciphertexts_fail_and_state_survives(db: Db) {
        let dir = directory(db);
        let (ann, bob) = (UserId::new(), UserId::new());
        let mut a = client(&dir, ann, "a").await;
        let mut b = client(&dir, bob, "b").await;
        let olm = a.encrypt_for_user(bob, b"one").await.unwrap().remove(0);
        let group = a.encrypt_for_group("g", &[bob], b"two").await.unwrap();
        let mut id = 0;
        let mut next = || {
            id += 1;
            id
        };
        for original in std::iter::once(&olm).chain(group.iter()) {
            for at in [
                0,
                original.ciphertext.len() / 2,
                original.ciphertext.len() - 1,
            ] {
                let mut bad = delivered(&a, original, next());
                bad.ciphertext[at] ^= 0x01;
                assert!(
                    b.receive(&bad).await.is_err(),
                    "a flipped byte at {at} must fail"
                );
            }
            let mut truncated = delivered(&a, original, next());
            truncated.ciphertext.pop();
            assert!(b.receive(&truncated).await.is_err());
            // The untouched original still decrypts; its replay does not.
            let good = delivered(&a, original, next());
            b.receive(&good).await.unwrap();
            assert!(b.receive(&good).await.is_err(), "replay");
        }
    }

    pub async fn pickled_clients_resume(db: Db) {
        let dir = directory(db);
        let (ann, bob) = (UserId::new(), UserId::new());
        let mut a = client(&dir, ann, "a").await;
        let b = client(&dir, bob, "b").await;
        let key = [42u8; 32];
        let pickle = b.device().pickle(&key).unwrap();
        let principal = Principal::user(bob, SessionId::new());
        assert!(matches!(
            Client::restore(dir.clone(), principal.clone(), &pickle, &[1u8; 32]),
            Err(ClientError::Pickle)
        ));
        let mut tampered = pickle.clone();
        tampered[20] ^= 1;
        assert!(Client::restore(dir.clone(), principal.clone(), &tampered, &key).is_err());
        drop(b);
        let mut b = Client::restore(dir.clone(), principal.clone(), &pickle, &key).unwrap();

        let out = a.encrypt_for_user(bob, b"before").await.unwrap();
        a.send(out).await.unwrap();
        let out = a
            .encrypt_for_group("g", &[bob], b"group before")
            .await
            .unwrap();
        a.send(out).await.unwrap();
        assert_eq!(texts(b.sync().await.unwrap()), ["before", "group before"]);
        let pickle = b.device().pickle(&key).unwrap();
        let mut b = Client::restore(dir.clone(), principal, &pickle, &key).unwrap();
        let out = a.encrypt_for_user(bob, b"after").await.unwrap();
        a.send(out).await.unwrap();
        let out = a
            .encrypt_for_group("g", &[bob], b"group after")
            .await
            .unwrap();
        a.send(out).await.unwrap();
        assert_eq!(texts(b.sync().await.unwrap()), ["after", "group after"]);
        let reply = b
            .encrypt_for_user(ann, b"restored and replying")
            .await
            .unwrap();
        b.send(reply).await.unwrap();
        assert_eq!(texts(a.sync().await.unwrap()), ["restored and replying"]);
    }

    pub async fn keys_are_replenished(db: Db) {
        let dir = directory(db);
        let ann = UserId::new();
        let mut a = client(&dir, ann, "a").await;
        for i in 0..40 {
            let mut claimer = client(&dir, UserId::new(), &format!("c{i}")).await;
            claimer.encrypt_for_user(ann, b"x").await.unwrap();
        }
        let counts = dir
            .key_counts(
                &Principal::user(ann, SessionId::new()),
                &DeviceId::new("a").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(counts.one_time_keys, ONE_TIME_KEY_TARGET - 40);
        let counts = a.replenish().await.unwrap();
        assert_eq!(counts.one_time_keys, ONE_TIME_KEY_TARGET);
    }

    pub async fn stored_rows_never_contain_plaintext(db: Db) {
        let dir = directory(db.clone());
        let (ann, bob) = (UserId::new(), UserId::new());
        let mut a = client(&dir, ann, "a").await;
        let mut b = client(&dir, bob, "b").await;
        let markers = ["PLAINTEXT-MARKER-one-to-one", "PLAINTEXT-MARKER-group"];
        let out = a
            .encrypt_for_user(bob, markers[0].as_bytes())
            .await
            .unwrap();
        a.send(out).await.unwrap();
        let out = a
            .encrypt_for_group("room", &[bob], markers[1].as_bytes())
            .await
            .unwrap();
        a.send(out).await.unwrap();
        // Scan before the recipient reads (and deletes) them.
        let mut scanned = 0;
        let columns = [
            ("device_keys", "device_id"),
            ("device_keys", "curve25519"),
            ("device_keys", "ed25519"),
            ("device_keys", "signature"),
            ("one_time_keys", "key_id"),
            ("one_time_keys", "public_key"),
            ("one_time_keys", "signature"),
            ("fallback_keys", "public_key"),
            ("fallback_keys", "signature"),
            ("key_exchanges", "key_id"),
            ("e2ee_messages", "algorithm"),
            ("e2ee_messages", "session_id"),
            ("e2ee_messages", "sender_device_id"),
        ];
        let mut values: Vec<Vec<u8>> = Vec::new();
        for (table, column) in columns {
            let sql = format!("SELECT {column} FROM {table}");
            let rows: Vec<String> = on_db!(&db, read, |c| sqlx::query_scalar(&sql)
                .fetch_all(c)
                .await
                .db())
            .unwrap();
            values.extend(rows.into_iter().map(String::into_bytes));
        }
        let sql = "SELECT ciphertext FROM e2ee_messages";
        let blobs: Vec<Vec<u8>> = on_db!(&db, read, |c| sqlx::query_scalar(sql)
            .fetch_all(c)
            .await
            .db())
        .unwrap();
        assert_eq!(blobs.len(), 3, "Olm message, key share, group message");
        values.extend(blobs);
        for value in &values {
            scanned += 1;
            for marker in markers {
                let found = value.windows(marker.len()).any(|w| w == marker.as_bytes());
                assert!(!found, "plaintext stored on the server");
                assert!(!String::from_utf8_lossy(value).contains("MARKER"));
            }
        }
        assert!(scanned > 50);
        assert_eq!(texts(b.sync().await.unwrap()), markers);
    }
}

nova_testkit::db_conformance_suite!(suite:
    one_to_one_reaches_every_device,
    group_sessions_rotate_when_a_device_leaves,
    tampered_ciphertexts_fail_and_state_survives,
    pickled_clients_resume,
    keys_are_replenished,
    stored_rows_never_contain_plaintext,
);
