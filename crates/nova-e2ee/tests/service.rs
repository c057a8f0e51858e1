//! KeyDirectoryService on SQLite and PostgreSQL: signature checks, claim semantics,
//! authorization, device lists and message validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

mod suite {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use nova_core::{ErrorKind, Principal, UserId};
    use nova_db::Db;
    use nova_e2ee::model::{
        Algorithm, DeviceAddress, DeviceId, KeyKind, KeyUpload, MAX_CIPHERTEXT_BYTES,
        OutgoingMessage,
    };
    use nova_e2ee::{InteractionPolicy, KeyDirectory, KeyDirectoryService};
    use vodozemac::Curve25519PublicKey;
    use vodozemac::megolm::{GroupSession, SessionConfig as MegolmConfig};
    use vodozemac::olm::SessionConfig;

    use super::common::TestDevice;

    /// A test double of the nova-social port: `(blocker, blocked)` pairs.
    #[derive(Default)]
    struct Blocks(Mutex<HashSet<(UserId, UserId)>>);

    #[async_trait]
    impl InteractionPolicy for Blocks {
        async fn can_interact(&self, viewer: UserId, target: UserId) -> nova_core::Result<bool> {
            Ok(!self.0.lock().unwrap().contains(&(target, viewer)))
        }
    }

    fn service(db: Db) -> (KeyDirectoryService, Arc<Blocks>) {
        let blocks = Arc::new(Blocks::default());
        (
            KeyDirectoryService::sql(db).with_policy(blocks.clone()),
            blocks,
        )
    }

    fn dev(name: &str) -> DeviceId {
        DeviceId::new(name).unwrap()
    }

    async fn registered(api: &KeyDirectoryService, name: &str, otks: usize) -> TestDevice {
        let mut d = TestDevice::new(UserId::new(), name);
        let upload = d.upload(otks);
        api.upload_keys(&d.principal, &d.device_id, upload)
            .await
            .unwrap();
        d
    }

    fn field(err: nova_core::Error) -> String {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
            "{err:?}"
        );
        err.field().unwrap().to_string()
    }

    pub async fn uploads_are_verified(db: Db) {
        let (api, _) = service(db);
        let mut ann = TestDevice::new(UserId::new(), "phone");
        let (me, device) = (ann.principal.clone(), ann.device_id.clone());
        let good = ann.upload(5);
        let other = TestDevice::new(ann.user(), "phone");

        let mut unsigned = good.clone();
        unsigned.one_time_keys[0].signature.clear();
        let e = api.upload_keys(&me, &device, unsigned).await.unwrap_err();
        assert_eq!(field(e), "one_time_keys.signature");

        let mut forged = good.clone();
        let k = &forged.one_time_keys[0];
        forged.one_time_keys[0] =
            other.sign_key(KeyKind::OneTime, k.key_id.clone(), k.public_key.clone());
        assert_eq!(
            field(api.upload_keys(&me, &device, forged).await.unwrap_err()),
            "one_time_keys.signature"
        );

        // A fallback signature does not pass for a one-time key (the kind is signed).
        let mut swapped = good.clone();
        let k = &swapped.one_time_keys[0];
        swapped.one_time_keys[0] =
            ann.sign_key(KeyKind::Fallback, k.key_id.clone(), k.public_key.clone());
        assert_eq!(
            field(api.upload_keys(&me, &device, swapped).await.unwrap_err()),
            "one_time_keys.signature"
        );

        let mut swapped_key = good.clone();
        swapped_key.one_time_keys[0].public_key = good.one_time_keys[1].public_key.clone();
        assert!(api.upload_keys(&me, &device, swapped_key).await.is_err());

        let mut wrong_identity = good.clone();
        let mut keys = other.device_keys();
        keys.signature = ann.device_keys().signature;
        wrong_identity.device_keys = Some(keys);
        assert_eq!(
            field(
                api.upload_keys(&me, &device, wrong_identity)
                    .await
                    .unwrap_err()
            ),
            "device_keys.signature"
        );

        let mut bad_fallback = good.clone();
        bad_fallback.fallback_key.as_mut().unwrap().signature =
            good.one_time_keys[0].signature.clone();
        assert_eq!(
            field(
                api.upload_keys(&me, &device, bad_fallback)
                    .await
                    .unwrap_err()
            ),
            "fallback_key.signature"
        );

        let no_keys = KeyUpload {
            device_keys: None,
            ..good.clone()
        };
        assert_eq!(
            field(api.upload_keys(&me, &device, no_keys).await.unwrap_err()),
            "device_keys"
        );
        let e = api
            .upload_keys(&me, &dev("tablet"), good.clone())
            .await
            .unwrap_err();
        assert_eq!(
            field(e),
            "device_keys",
            "keys must name the device they are uploaded for"
        );

        // Nothing of the rejected uploads was stored.
        let e = api.key_counts(&me, &device).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::NotFound);

        let counts = api.upload_keys(&me, &device, good.clone()).await.unwrap();
        assert_eq!((counts.one_time_keys, counts.fallback_key), (5, true));
        // The same upload again is idempotent; other identity keys for the device are not.
        assert_eq!(
            api.upload_keys(&me, &device, good)
                .await
                .unwrap()
                .one_time_keys,
            5
        );
        let impostor = other.device_keys();
        let change = KeyUpload {
            device_keys: Some(impostor),
            ..KeyUpload::default()
        };
        assert_eq!(
            api.upload_keys(&me, &device, change)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );

        let mut too_many = ann.upload(1);
        too_many.one_time_keys = (0..101)
            .map(|i| {
                ann.sign_key(
                    KeyKind::OneTime,
                    format!("k{i}"),
                    too_many.one_time_keys[0].public_key.clone(),
                )
            })
            .collect();
        let e = api.upload_keys(&me, &device, too_many).await.unwrap_err();
        assert_eq!(field(e), "one_time_keys");
        let mut read_only = me.clone();
        read_only.scopes = vec!["read".into()];
        let e = api
            .upload_keys(&read_only, &device, ann.upload(1))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    }

    pub async fn one_account_cannot_drain_a_victims_one_time_keys(db: Db) {
        use nova_e2ee::ClaimLimits;
        use nova_kv::Quota;
        let limits = ClaimLimits {
            per_claimer: Quota::per_hour(6),
            per_pair: Quota::per_hour(3),
            per_target: Quota::per_hour(5),
        };
        let limiter = nova_kv::Kv::in_process().rate_limiter;
        let api = KeyDirectoryService::sql(db).with_claim_limits(limiter, limits);
        let victim = registered(&api, "v1", 20).await;
        let target = [DeviceAddress::new(victim.user(), victim.device_id.clone())];
        let mut claimers = Vec::new();
        for i in 0..3 {
            claimers.push(registered(&api, &format!("m{i}"), 1).await);
        }
        let claim = |who: &TestDevice| {
            let (p, d) = (who.principal.clone(), who.device_id.clone());
            let api = api.clone();
            let target = target.clone();
            async move { api.claim_keys(&p, &d, &target).await }
        };
        // One claimer: 3 keys of this victim per hour, then RateLimited.
        for _ in 0..3 {
            assert_eq!(claim(&claimers[0]).await.unwrap()[0].kind, KeyKind::OneTime);
        }
        let e = claim(&claimers[0]).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::RateLimited);
        // A crowd: 5 per victim per hour in all.
        claim(&claimers[1]).await.unwrap();
        claim(&claimers[1]).await.unwrap();
        let e = claim(&claimers[2]).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::RateLimited);
        let counts = api
            .key_counts(&victim.principal, &victim.device_id)
            .await
            .unwrap();
        assert_eq!(
            counts.one_time_keys, 15,
            "only the 5 allowed claims took keys"
        );
        // Per claimer over all targets: 6, whoever they are.
        let mut others = Vec::new();
        for i in 0..4 {
            others.push(registered(&api, &format!("o{i}"), 5).await);
        }
        let many: Vec<DeviceAddress> = others
            .iter()
            .map(|o| DeviceAddress::new(o.user(), o.device_id.clone()))
            .collect();
        let c = &claimers[2];
        assert_eq!(
            api.claim_keys(&c.principal, &c.device_id, &many)
                .await
                .unwrap()
                .len(),
            4
        );
        let e = api
            .claim_keys(&c.principal, &c.device_id, &many)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::RateLimited);
    }

    pub async fn claims_one_time_then_fallback_and_respects_blocks(db: Db) {
        let (api, blocks) = service(db);
        let ann = registered(&api, "a1", 2).await;
        let bob = registered(&api, "b1", 1).await;
        let cat = registered(&api, "c1", 1).await;
        let target = [DeviceAddress::new(ann.user(), ann.device_id.clone())];

        let mut seen = Vec::new();
        for expected in [
            KeyKind::OneTime,
            KeyKind::OneTime,
            KeyKind::Fallback,
            KeyKind::Fallback,
        ] {
            let claimed = api
                .claim_keys(&bob.principal, &bob.device_id, &target)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1);
            assert_eq!(claimed[0].kind, expected);
            assert_eq!(claimed[0].device, ann.device_keys());
            seen.push(claimed[0].key.key_id.clone());
        }
        assert_ne!(seen[0], seen[1]);
        let counts = api
            .key_counts(&ann.principal, &ann.device_id)
            .await
            .unwrap();
        assert_eq!((counts.one_time_keys, counts.fallback_key), (0, true));

        // Claiming needs a registered device of the caller's own.
        let e = api
            .claim_keys(&bob.principal, &dev("ghost"), &target)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::NotFound);
        let own = [DeviceAddress::new(bob.user(), bob.device_id.clone())];
        assert!(
            api.claim_keys(&bob.principal, &bob.device_id, &own)
                .await
                .is_err()
        );

        // Ann blocks Cat: no keys, no messages, no devices for Cat.
        blocks.0.lock().unwrap().insert((ann.user(), cat.user()));
        let e = api
            .claim_keys(&cat.principal, &cat.device_id, &target)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
        let mut group = GroupSession::new(MegolmConfig::version_1());
        let msg = OutgoingMessage {
            sender_device: cat.device_id.clone(),
            algorithm: Algorithm::Megolm,
            session_id: group.session_id(),
            ciphertext: group.encrypt("hi").to_bytes(),
            recipients: target.to_vec(),
        };
        let e = api
            .send_message(&cat.principal, msg.clone())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
        let lists = api
            .query_devices(&cat.principal, &[ann.user()])
            .await
            .unwrap();
        assert!(lists[0].devices.is_empty());
        // Blocking is one-way: Ann still reaches Cat.
        let to_cat = [DeviceAddress::new(cat.user(), cat.device_id.clone())];
        assert_eq!(
            api.claim_keys(&ann.principal, &ann.device_id, &to_cat)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    pub async fn device_lists_track_additions_and_removals(db: Db) {
        let (api, _) = service(db);
        let ann = registered(&api, "a1", 1).await;
        let bob = registered(&api, "b1", 1).await;
        let versions = |p: Principal| {
            let api = api.clone();
            let user = ann.user();
            async move { api.device_list_versions(&p, &[user]).await.unwrap()[0].1 }
        };
        assert_eq!(versions(bob.principal.clone()).await, 1);
        let mut laptop = TestDevice::new(ann.user(), "a2");
        let upload = laptop.upload(3);
        api.upload_keys(&ann.principal, &laptop.device_id, upload)
            .await
            .unwrap();
        assert_eq!(versions(bob.principal.clone()).await, 2);
        let list = &api
            .query_devices(&bob.principal, &[ann.user(), ann.user()])
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].version, list[0].devices.len()), (2, 2));

        // Only the owner removes a device; its keys are withdrawn at once.
        let e = api
            .remove_device(&bob.principal, &laptop.device_id)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::NotFound);
        api.remove_device(&ann.principal, &laptop.device_id)
            .await
            .unwrap();
        assert_eq!(versions(bob.principal.clone()).await, 3);
        let gone = [DeviceAddress::new(ann.user(), laptop.device_id.clone())];
        assert!(
            api.claim_keys(&bob.principal, &bob.device_id, &gone)
                .await
                .unwrap()
                .is_empty()
        );
        let list = &api
            .query_devices(&bob.principal, &[ann.user()])
            .await
            .unwrap()[0];
        assert_eq!(list.devices, vec![ann.device_keys()]);
        let nobody = UserId::new();
        assert_eq!(
            api.device_list_versions(&bob.principal, &[nobody])
                .await
                .unwrap(),
            [(nobody, 0)]
        );
    }

    pub async fn message_metadata_is_validated(db: Db) {
        let (api, _) = service(db);
        let ann = registered(&api, "a1", 1).await;
        let bob = registered(&api, "b1", 1).await;
        let to_ann = DeviceAddress::new(ann.user(), ann.device_id.clone());
        let claimed = api
            .claim_keys(
                &bob.principal,
                &bob.device_id,
                std::slice::from_ref(&to_ann),
            )
            .await
            .unwrap();
        let mut session = bob
            .account
            .create_outbound_session(
                SessionConfig::version_1(),
                Curve25519PublicKey::from_base64(&claimed[0].device.curve25519).unwrap(),
                Curve25519PublicKey::from_base64(&claimed[0].key.public_key).unwrap(),
            )
            .unwrap();
        let (kind, bytes) = session.encrypt("hello ann").unwrap().to_parts();
        assert_eq!(kind, 0);
        let olm = OutgoingMessage {
            sender_device: bob.device_id.clone(),
            algorithm: Algorithm::OlmPreKey,
            session_id: session.session_id(),
            ciphertext: bytes,
            recipients: vec![to_ann.clone()],
        };
        let id = api.send_message(&bob.principal, olm.clone()).await.unwrap();

        let invalid = |m: OutgoingMessage| {
            let api = api.clone();
            let p = bob.principal.clone();
            async move { field(api.send_message(&p, m).await.unwrap_err()) }
        };
        let other = DeviceAddress::new(UserId::new(), dev("x"));
        assert_eq!(
            invalid(OutgoingMessage {
                recipients: vec![to_ann.clone(), other],
                ..olm.clone()
            })
            .await,
            "recipients"
        );
        assert_eq!(
            invalid(OutgoingMessage {
                recipients: vec![],
                ..olm.clone()
            })
            .await,
            "recipients"
        );
        assert_eq!(
            invalid(OutgoingMessage {
                session_id: "nope".into(),
                ..olm.clone()
            })
            .await,
            "session_id"
        );
        assert_eq!(
            invalid(OutgoingMessage {
                session_id: String::new(),
                ..olm.clone()
            })
            .await,
            "session_id"
        );
        assert_eq!(
            invalid(OutgoingMessage {
                ciphertext: vec![1, 2, 3],
                ..olm.clone()
            })
            .await,
            "ciphertext"
        );
        assert_eq!(
            invalid(OutgoingMessage {
                algorithm: Algorithm::Megolm,
                ..olm.clone()
            })
            .await,
            "ciphertext"
        );
        let huge = vec![0u8; MAX_CIPHERTEXT_BYTES + 1];
        assert_eq!(
            invalid(OutgoingMessage {
                ciphertext: huge,
                ..olm.clone()
            })
            .await,
            "ciphertext"
        );
        let e = api
            .send_message(&ann.principal, olm.clone())
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::NotFound,
            "the sender device must be the caller's"
        );

        let mut group = GroupSession::new(MegolmConfig::version_1());
        let megolm = OutgoingMessage {
            sender_device: bob.device_id.clone(),
            algorithm: Algorithm::Megolm,
            session_id: group.session_id(),
            ciphertext: group.encrypt("hello group").to_bytes(),
            recipients: vec![to_ann.clone(), DeviceAddress::new(bob.user(), dev("b2"))],
        };
        api.send_message(&bob.principal, megolm.clone())
            .await
            .unwrap();
        let dup = OutgoingMessage {
            recipients: vec![to_ann.clone(), to_ann.clone()],
            ..megolm
        };
        assert_eq!(invalid(dup).await, "recipients");

        let inbox = api
            .inbox(&ann.principal, &ann.device_id, 0, 10)
            .await
            .unwrap();
        assert_eq!(inbox.len(), 2);
        assert_eq!(
            (inbox[0].id, &inbox[0].sender),
            (id, &DeviceAddress::new(bob.user(), bob.device_id.clone()))
        );
        assert_eq!(inbox[0].ciphertext, olm.ciphertext);
        assert!(
            api.inbox(&bob.principal, &ann.device_id, 0, 10)
                .await
                .unwrap()
                .is_empty(),
            "only the owner reads an inbox"
        );
        assert_eq!(
            api.acknowledge(&ann.principal, &ann.device_id, id)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            api.inbox(&ann.principal, &ann.device_id, 0, 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    uploads_are_verified,
    claims_one_time_then_fallback_and_respects_blocks,
    one_account_cannot_drain_a_victims_one_time_keys,
    device_lists_track_additions_and_removals,
    message_metadata_is_validated,
);
