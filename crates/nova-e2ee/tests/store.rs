//! The E2EE store conformance suite, run on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod suite {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use chrono::Utc;
    use nova_core::{ErrorKind, Timestamp, UserId};
    use nova_db::{Db, DbResultExt, on_db};
    use nova_e2ee::events::DEVICE_LIST_CHANGED;
    use nova_e2ee::model::{
        Algorithm, DeviceAddress, DeviceId, DeviceKeys, KeyKind, OutgoingMessage, SignedKey,
    };
    use nova_e2ee::store::{E2eeStore, SqlE2eeStore};
    use nova_events::outbox;
    use nova_proto::nova::e2ee::v1::DeviceListChanged;
    use prost::Message;

    fn now() -> Timestamp {
        use chrono::SubsecRound;
        Utc::now().trunc_subsecs(6)
    }

    fn dev(name: &str) -> DeviceId {
        DeviceId::new(name).unwrap()
    }

    fn keys(user: UserId, device: &str) -> DeviceKeys {
        DeviceKeys {
            user_id: user,
            device_id: dev(device),
            curve25519: format!("curve-{device}"),
            ed25519: format!("ed-{device}"),
            signature: "sig".into(),
        }
    }

    fn key(id: usize) -> SignedKey {
        SignedKey {
            key_id: format!("k{id}"),
            public_key: format!("pub{id}"),
            signature: format!("sig{id}"),
        }
    }

    async fn count_rows(db: &Db, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        on_db!(
            db,
            read | c | sqlx::query_scalar(&sql).fetch_one(c).await.db()
        )
        .unwrap()
    }

    pub async fn devices_and_list_versions(db: Db) {
        let store = SqlE2eeStore::new(db.clone());
        let ann = UserId::new();
        assert_eq!(store.device_list_version(ann).await.unwrap(), 0);
        assert_eq!(
            store
                .insert_device(&keys(ann, "phone"), now())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .insert_device(&keys(ann, "laptop"), now())
                .await
                .unwrap(),
            2
        );
        let err = store
            .insert_device(&keys(ann, "phone"), now())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        assert_eq!(
            store.device(ann, &dev("phone")).await.unwrap(),
            Some(keys(ann, "phone"))
        );
        assert_eq!(store.device_count(ann).await.unwrap(), 2);
        let names: Vec<String> = store
            .devices(ann)
            .await
            .unwrap()
            .iter()
            .map(|d| d.device_id.to_string())
            .collect();
        assert_eq!(names, ["laptop", "phone"]);

        store
            .add_one_time_keys(ann, &dev("phone"), &[key(1), key(2)], 10, now())
            .await
            .unwrap();
        store
            .set_fallback_key(ann, &dev("phone"), &key(9), now())
            .await
            .unwrap();
        assert!(
            store
                .remove_device(ann, &dev("phone"), now())
                .await
                .unwrap()
        );
        assert!(
            !store
                .remove_device(ann, &dev("phone"), now())
                .await
                .unwrap()
        );
        assert_eq!(store.device_list_version(ann).await.unwrap(), 3);
        assert_eq!(store.device(ann, &dev("phone")).await.unwrap(), None);
        let counts = store.key_counts(ann, &dev("phone")).await.unwrap();
        assert_eq!(
            (counts.one_time_keys, counts.fallback_key),
            (0, false),
            "keys withdrawn"
        );
        assert_eq!(count_rows(&db, "one_time_keys").await, 0);

        // Every device-list change wrote its event in the same transaction.
        let events = outbox::store(&db).fetch_unpublished(100).await.unwrap();
        let changes: Vec<(String, String, i64)> = events
            .iter()
            .filter(|e| e.event_type == DEVICE_LIST_CHANGED)
            .map(|e| {
                let p = DeviceListChanged::decode(e.payload.as_slice()).unwrap();
                assert_eq!(p.user_id, ann.to_string());
                (p.device_id, p.change, p.version)
            })
            .collect();
        let expected = [
            ("phone", "added", 1),
            ("laptop", "added", 2),
            ("phone", "removed", 3),
        ]
        .map(|(d, c, v)| (d.to_string(), c.to_string(), v));
        assert_eq!(changes, expected);
    }

    pub async fn one_time_keys_then_fallback(db: Db) {
        let store = SqlE2eeStore::new(db.clone());
        let (ann, bob) = (UserId::new(), UserId::new());
        store.insert_device(&keys(ann, "a1"), now()).await.unwrap();
        let a1 = dev("a1");
        store
            .add_one_time_keys(ann, &a1, &[key(1), key(2)], 3, now())
            .await
            .unwrap();
        // Re-uploading a known key id is a no-op; exceeding the cap is refused whole.
        store
            .add_one_time_keys(ann, &a1, &[key(2)], 3, now())
            .await
            .unwrap();
        let err = store
            .add_one_time_keys(ann, &a1, &[key(3), key(4)], 3, now())
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("one_time_keys"));
        assert_eq!(store.key_counts(ann, &a1).await.unwrap().one_time_keys, 2);

        let claimer = DeviceAddress::new(bob, dev("b1"));
        let target = DeviceAddress::new(ann, a1.clone());
        // Nothing to hand out before a fallback exists once the pool is empty.
        let first = store
            .claim_key(&claimer, &target, now())
            .await
            .unwrap()
            .unwrap();
        let second = store
            .claim_key(&claimer, &target, now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (first.kind, second.kind),
            (KeyKind::OneTime, KeyKind::OneTime)
        );
        assert_eq!(
            (first.key.key_id.as_str(), second.key.key_id.as_str()),
            ("k1", "k2")
        );
        assert_eq!(first.device, keys(ann, "a1"));
        assert!(
            store
                .claim_key(&claimer, &target, now())
                .await
                .unwrap()
                .is_none()
        );

        store
            .set_fallback_key(ann, &a1, &key(7), now())
            .await
            .unwrap();
        store
            .set_fallback_key(ann, &a1, &key(8), now())
            .await
            .unwrap();
        for _ in 0..2 {
            let fb = store
                .claim_key(&claimer, &target, now())
                .await
                .unwrap()
                .unwrap();
            assert_eq!((fb.kind, fb.key), (KeyKind::Fallback, key(8)));
        }
        let counts = store.key_counts(ann, &a1).await.unwrap();
        assert_eq!((counts.one_time_keys, counts.fallback_key), (0, true));
        assert_eq!(count_rows(&db, "key_exchanges").await, 4);
        let unknown = DeviceAddress::new(ann, dev("nope"));
        assert!(
            store
                .claim_key(&claimer, &unknown, now())
                .await
                .unwrap()
                .is_none()
        );
    }

    pub async fn concurrent_claims_hand_out_each_key_once(db: Db) {
        const KEYS: usize = 60;
        const CLAIMERS: usize = 90;
        let store = Arc::new(SqlE2eeStore::new(db.clone()));
        let ann = UserId::new();
        store.insert_device(&keys(ann, "a1"), now()).await.unwrap();
        let batch: Vec<SignedKey> = (0..KEYS).map(key).collect();
        store
            .add_one_time_keys(ann, &dev("a1"), &batch, 200, now())
            .await
            .unwrap();
        store
            .set_fallback_key(ann, &dev("a1"), &key(1000), now())
            .await
            .unwrap();

        let mut tasks = Vec::new();
        for i in 0..CLAIMERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let claimer = DeviceAddress::new(UserId::new(), dev(&format!("c{i}")));
                let target = DeviceAddress::new(ann, dev("a1"));
                store
                    .claim_key(&claimer, &target, now())
                    .await
                    .unwrap()
                    .unwrap()
            }));
        }
        let mut one_time = Vec::new();
        let mut fallbacks = 0;
        for task in tasks {
            let claimed = task.await.unwrap();
            match claimed.kind {
                KeyKind::OneTime => one_time.push(claimed.key.key_id),
                KeyKind::Fallback => fallbacks += 1,
            }
        }
        let distinct: BTreeSet<&String> = one_time.iter().collect();
        assert_eq!(
            distinct.len(),
            one_time.len(),
            "a one-time key was handed out twice"
        );
        assert_eq!(one_time.len(), KEYS, "every one-time key handed out once");
        assert_eq!(fallbacks, CLAIMERS - KEYS);
        assert_eq!(
            store
                .key_counts(ann, &dev("a1"))
                .await
                .unwrap()
                .one_time_keys,
            0
        );
        assert_eq!(count_rows(&db, "key_exchanges").await, CLAIMERS as i64);
    }

    pub async fn message_inbox_and_acknowledge(db: Db) {
        let store = SqlE2eeStore::new(db.clone());
        let (ann, bob, cat) = (UserId::new(), UserId::new(), UserId::new());
        let to_bob = DeviceAddress::new(bob, dev("b1"));
        let to_cat = DeviceAddress::new(cat, dev("c1"));
        let message = |n: u8| OutgoingMessage {
            sender_device: dev("a1"),
            algorithm: Algorithm::Megolm,
            session_id: format!("s{n}"),
            ciphertext: vec![n; 8],
            recipients: vec![to_bob.clone(), to_cat.clone()],
        };
        let m1 = store.insert_message(ann, &message(1), now()).await.unwrap();
        let m2 = store.insert_message(ann, &message(2), now()).await.unwrap();
        assert!(m2 > m1);
        let inbox = store.inbox(&to_bob, 0, 10).await.unwrap();
        assert_eq!(inbox.len(), 2);
        assert_eq!(inbox[0].id, m1);
        assert_eq!(inbox[0].sender, DeviceAddress::new(ann, dev("a1")));
        assert_eq!(
            (inbox[0].algorithm, inbox[0].session_id.as_str()),
            (Algorithm::Megolm, "s1")
        );
        assert_eq!(inbox[1].ciphertext, vec![2; 8]);
        assert_eq!(store.inbox(&to_bob, m1, 10).await.unwrap().len(), 1);
        assert_eq!(store.inbox(&to_bob, 0, 1).await.unwrap().len(), 1);

        assert_eq!(store.acknowledge(&to_bob, m1).await.unwrap(), 1);
        assert_eq!(store.inbox(&to_bob, 0, 10).await.unwrap().len(), 1);
        assert_eq!(
            count_rows(&db, "e2ee_messages").await,
            2,
            "cat has not read m1 yet"
        );
        assert_eq!(store.acknowledge(&to_cat, m2).await.unwrap(), 2);
        assert_eq!(
            count_rows(&db, "e2ee_messages").await,
            1,
            "m1 read by all, deleted"
        );

        // A removed device's undelivered messages go with it.
        store.insert_device(&keys(bob, "b1"), now()).await.unwrap();
        assert!(store.remove_device(bob, &dev("b1"), now()).await.unwrap());
        assert!(store.inbox(&to_bob, 0, 10).await.unwrap().is_empty());
    }
}

nova_testkit::db_conformance_suite!(suite:
    devices_and_list_versions,
    one_time_keys_then_fallback,
    concurrent_claims_hand_out_each_key_once,
    message_inbox_and_acknowledge,
);
