//! nova-chat on SQLite and PostgreSQL, with the real social, graph, user and key
//! directory services on the same database and real Olm/Megolm clients
//! (`nova-e2ee-client`): conversations, roles, who may message whom, encrypted delivery
//! through per-device queues, idempotency, size and rate limits, receipts, archiving,
//! expiry, and that no plaintext is stored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use async_trait::async_trait;
use nova_chat::store::SqlChatStore;
use nova_chat::{ChatLimits, ChatRelations, ChatService, Reach};
use nova_core::cursor::CursorCodec;
use nova_core::{Principal, SharedClock, SystemClock, UserId};
use nova_db::Db;
use nova_e2ee::{InteractionPolicy, KeyDirectory, KeyDirectoryService};
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_user::UserService;
use nova_user::store::SqlUserStore;

/// The port as nova-app implements it.
struct SocialReach(Arc<dyn SocialApi>);

#[async_trait]
impl ChatRelations for SocialReach {
    async fn reach(&self, actor: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
        let access = self.0.author_access(Some(actor), others).await?;
        Ok(access
            .into_iter()
            .map(|a| Reach {
                exists: a.exists,
                can_interact: a.can_interact,
                follows_actor: a.author_follows_viewer,
            })
            .collect())
    }
}

struct SocialPolicy(Arc<dyn SocialApi>);

#[async_trait]
impl InteractionPolicy for SocialPolicy {
    async fn can_interact(&self, viewer: UserId, target: UserId) -> nova_core::Result<bool> {
        self.0.can_interact(viewer, target).await
    }
}

struct World {
    db: Db,
    social: Arc<SocialService>,
    chat: Arc<ChatService>,
    keys: Arc<dyn KeyDirectory>,
}

fn world(db: Db, limits: ChatLimits, clock: SharedClock) -> World {
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        CursorCodec::new(b"chat test key, long enough for it"),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = Arc::new(SocialService::new(
        graph,
        users,
        Arc::new(SqlSocialStore::new(db.clone())),
    ));
    let chat = ChatService::new(
        Arc::new(SqlChatStore::new(db.clone())),
        Arc::new(SocialReach(social.clone())),
    )
    .with_limits(limits)
    .with_clock(clock);
    let keys =
        KeyDirectoryService::sql(db.clone()).with_policy(Arc::new(SocialPolicy(social.clone())));
    World {
        db,
        social,
        chat: Arc::new(chat),
        keys: Arc::new(keys),
    }
}

impl World {
    async fn user(&self, name: &str) -> Principal {
        nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
    }
}

mod suite {
    use super::*;

    use chrono::{Duration, Utc};
    use nova_chat::{
        ChatApi, Delivery, DmPolicy, Envelope, LiveEvent, MessageKind, NewMessage, Role,
    };
    use nova_core::{Clock, ErrorKind, ManualClock};
    use nova_e2ee::{DeviceId, OutgoingMessage};
    use nova_e2ee_client::Client;
    use nova_kv::Quota;

    fn default_world(db: Db) -> World {
        world(db, ChatLimits::default(), SystemClock::shared())
    }

    fn message(client: &Client, key: &str, out: Vec<OutgoingMessage>) -> NewMessage {
        NewMessage {
            sender_device: client.address().device_id.clone(),
            idempotency_key: key.into(),
            kind: MessageKind::Message,
            envelopes: out.into_iter().map(Envelope::from).collect(),
        }
    }

    async fn device(w: &World, p: &Principal, name: &str) -> Client {
        Client::register(w.keys.clone(), p.clone(), DeviceId::new(name).unwrap())
            .await
            .unwrap()
    }

    /// Reads the device's queue, decrypts everything in order, acknowledges; answers the
    /// plaintexts of application messages.
    async fn drain(w: &World, p: &Principal, client: &mut Client) -> Vec<String> {
        let me = client.address().device_id.clone();
        let after = w.chat.acknowledged(p, &me).await.unwrap();
        let batch: Vec<Delivery> = w.chat.inbox(p, &me, after, 500).await.unwrap();
        let mut out = Vec::new();
        for d in &batch {
            if let Some(m) = client.receive(&d.encrypted()).await.unwrap() {
                out.push(String::from_utf8(m.plaintext).unwrap());
            }
        }
        if let Some(last) = batch.last() {
            w.chat.acknowledge(p, &me, last.seq).await.unwrap();
        }
        out
    }

    /// Every stored row of the chat tables, as bytes, must not contain `needle`.
    async fn assert_not_stored(db: &Db, needle: &str) {
        use nova_db::{DbResultExt, on_db};
        let rows: Vec<(Vec<u8>,)> = on_db!(db, read, |c| {
            sqlx::query_as("SELECT ciphertext FROM chat_envelopes")
                .fetch_all(c)
                .await
                .db()
        })
        .unwrap();
        assert!(!rows.is_empty());
        for (bytes,) in rows {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "plaintext stored"
            );
        }
        let texts: Vec<(String, String, String)> = on_db!(db, read, |c| {
            sqlx::query_as(
                "SELECT m.idempotency_key, m.kind, e.session_id FROM chat_messages m \
                 JOIN chat_envelopes e ON e.message_id = m.id",
            )
            .fetch_all(c)
            .await
            .db()
        })
        .unwrap();
        for (a, b, c) in texts {
            assert!(!a.contains(needle) && !b.contains(needle) && !c.contains(needle));
        }
    }

    /// Two devices establish Olm sessions through the key directory and exchange
    /// messages through their chat queues; nothing readable is stored.
    pub async fn two_devices_exchange_olm_messages(db: Db) {
        let w = default_world(db);
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let mut a = device(&w, &ann, "ann-phone").await;
        let mut b = device(&w, &bob, "bob-phone").await;
        let conversation = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        assert_eq!(
            w.chat.open_direct(&bob, ann.user_id).await.unwrap().id,
            conversation.id
        );
        let out = a
            .encrypt_for_user(bob.user_id, b"secret hello from ann")
            .await
            .unwrap();
        let sent = w
            .chat
            .send(&ann, conversation.id, message(&a, "k1", out))
            .await
            .unwrap();
        assert!(!sent.duplicate);
        assert_eq!(drain(&w, &bob, &mut b).await, ["secret hello from ann"]);
        let out = b
            .encrypt_for_user(ann.user_id, b"secret reply from bob")
            .await
            .unwrap();
        w.chat
            .send(&bob, conversation.id, message(&b, "k1", out))
            .await
            .unwrap();
        assert_eq!(drain(&w, &ann, &mut a).await, ["secret reply from bob"]);
        // Acknowledged: the queues are empty; the delivery receipt moved.
        assert!(drain(&w, &bob, &mut b).await.is_empty());
        let members = w.chat.members(&ann, conversation.id).await.unwrap();
        let bob_row = members
            .members
            .iter()
            .find(|m| m.user_id == bob.user_id)
            .unwrap();
        assert_eq!(bob_row.delivered_up_to, sent.message_id);
        // History hands each device the envelope addressed to it.
        let history = w
            .chat
            .history(
                &bob,
                conversation.id,
                &DeviceId::new("bob-phone").unwrap(),
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].envelopes.len(), 1);
        assert_not_stored(&w.db, "secret").await;
    }

    /// A group of five exchanges Megolm messages; after a member is removed, the sender
    /// rotates the session and the removed member can neither receive nor decrypt what
    /// follows.
    pub async fn group_megolm_and_removed_member(db: Db) {
        let w = default_world(db);
        let mut people = Vec::new();
        for name in ["g0", "g1", "g2", "g3", "g4"] {
            let p = w.user(name).await;
            let c = device(&w, &p, &format!("{name}-dev")).await;
            people.push((p, c));
        }
        let ids: Vec<UserId> = people.iter().map(|(p, _)| p.user_id).collect();
        let owner = people[0].0.clone();
        let group = w.chat.create_group(&owner, "five", &ids).await.unwrap();
        assert_eq!(group.role, Role::Owner);
        let key = group.id.to_string();
        let v1 = w.chat.members(&owner, group.id).await.unwrap().version;
        for round in 0..2 {
            for i in 0..5 {
                let others: Vec<UserId> = ids.iter().copied().filter(|u| *u != ids[i]).collect();
                let (p, c) = &mut people[i];
                let text = format!("group secret {round}-{i}");
                let out = c
                    .encrypt_for_group(&key, &others, text.as_bytes())
                    .await
                    .unwrap();
                let m = message(c, &format!("r{round}-{i}"), out);
                w.chat.send(p, group.id, m).await.unwrap();
            }
        }
        for i in 0..5 {
            let (p, mut c) = (people[i].0.clone(), people.remove(i));
            let got = drain(&w, &p, &mut c.1).await;
            people.insert(i, c);
            assert_eq!(got.len(), 8, "member {i} got {got:?}");
        }
        // g4 is removed: the version grows; g0 rotates (its client sees the change).
        let kicked = people[4].0.clone();
        let after = w.chat.kick(&owner, group.id, kicked.user_id).await.unwrap();
        assert!(after.version > v1);
        assert_eq!(after.members.len(), 4);
        let remaining: Vec<UserId> = after.members.iter().map(|m| m.user_id).collect();
        let others: Vec<UserId> = remaining.iter().copied().filter(|u| *u != ids[0]).collect();
        // Even a stale client naming g4's device: the server drops it (not a member).
        let stale = {
            let c = &mut people[0].1;
            let before = c.device().group_session_id(&key);
            let out = c
                .encrypt_for_group(&key, &others, b"after removal")
                .await
                .unwrap();
            assert_ne!(c.device().group_session_id(&key), before, "rotated");
            out
        };
        let megolm = stale
            .iter()
            .find(|m| m.algorithm == nova_e2ee::Algorithm::Megolm)
            .unwrap()
            .clone();
        let mut forced = megolm.clone();
        forced.recipients.push(people[4].1.address().clone());
        let mut envelopes: Vec<OutgoingMessage> = stale
            .into_iter()
            .filter(|m| m.algorithm != nova_e2ee::Algorithm::Megolm)
            .collect();
        envelopes.push(forced);
        let m = message(&people[0].1, "after", envelopes);
        w.chat.send(&owner, group.id, m).await.unwrap();
        let (p4, mut c4) = (people[4].0.clone(), people.remove(4));
        assert!(drain(&w, &p4, &mut c4.1).await.is_empty());
        // Handing g4 the ciphertext anyway: it cannot decrypt (new session, key never shared).
        let fake = nova_e2ee::EncryptedMessage {
            id: 1,
            sender: people[0].1.address().clone(),
            algorithm: megolm.algorithm,
            session_id: megolm.session_id.clone(),
            ciphertext: megolm.ciphertext.clone(),
            created_at: Utc::now(),
        };
        assert!(c4.1.receive(&fake).await.is_err());
        for i in 1..4 {
            let (p, mut c) = (people[i].0.clone(), people.remove(i));
            assert_eq!(drain(&w, &p, &mut c.1).await, ["after removal"]);
            people.insert(i, c);
        }
        // The kicked member no longer sees the group.
        let err = w.chat.members(&p4, group.id).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NotFound);
        assert_not_stored(&w.db, "group secret").await;
    }

    /// A blocked pair cannot DM, answered like a missing user; "nobody" and "following".
    pub async fn who_may_message_whom(db: Db) {
        let w = default_world(db);
        let (ann, bob, cat) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("cat").await,
        );
        let missing = w.chat.open_direct(&ann, UserId::new()).await.unwrap_err();
        assert_eq!(missing.kind(), &ErrorKind::NotFound);
        w.social.block(&bob, ann.user_id).await.unwrap();
        let blocked = w.chat.open_direct(&ann, bob.user_id).await.unwrap_err();
        assert_eq!(blocked.kind(), missing.kind());
        assert_eq!(blocked.message(), missing.message());
        // Either direction.
        let reverse = w.chat.open_direct(&bob, ann.user_id).await.unwrap_err();
        assert_eq!(reverse.kind(), &ErrorKind::NotFound);
        // A conversation made before the block delivers nothing after it.
        let ac = w.chat.open_direct(&ann, cat.user_id).await.unwrap();
        let mut a = device(&w, &ann, "a1").await;
        let _c = device(&w, &cat, "c1").await;
        w.social.block(&cat, ann.user_id).await.unwrap();
        let out = a.encrypt_for_user(cat.user_id, b"x").await;
        // The key directory (its policy wired to social) hides the blocker's devices.
        assert!(
            out.as_ref().map_or(true, Vec::is_empty),
            "no envelope can be made across a block"
        );
        let fake = vec![Envelope {
            algorithm: nova_e2ee::Algorithm::Megolm,
            session_id: "s".into(),
            ciphertext: vec![1, 2, 3],
            recipients: vec![],
        }];
        let sent = w
            .chat
            .send(
                &ann,
                ac.id,
                NewMessage {
                    sender_device: DeviceId::new("a1").unwrap(),
                    idempotency_key: "k".into(),
                    kind: MessageKind::Message,
                    envelopes: fake,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(
            sent.kind(),
            ErrorKind::InvalidArgument { .. } | ErrorKind::NotFound
        ));
        // DM settings.
        let (dan, eve) = (w.user("dan").await, w.user("eve").await);
        w.chat.set_dm_policy(&dan, DmPolicy::Nobody).await.unwrap();
        assert_eq!(w.chat.dm_policy(&dan).await.unwrap(), DmPolicy::Nobody);
        let nobody = w.chat.open_direct(&eve, dan.user_id).await.unwrap_err();
        assert_eq!(nobody.kind(), &ErrorKind::NotFound);
        let group = w
            .chat
            .create_group(&eve, "g", &[dan.user_id])
            .await
            .unwrap_err();
        assert_eq!(group.kind(), &ErrorKind::NotFound);
        // dan may still start one, and then both talk in it.
        let de = w.chat.open_direct(&dan, eve.user_id).await.unwrap();
        assert_eq!(
            w.chat.open_direct(&eve, dan.user_id).await.unwrap().id,
            de.id
        );
        w.chat
            .set_dm_policy(&dan, DmPolicy::Following)
            .await
            .unwrap();
        let fay = w.user("fay").await;
        assert!(w.chat.open_direct(&fay, dan.user_id).await.is_err());
        w.social.follow(&dan, fay.user_id).await.unwrap();
        w.chat.open_direct(&fay, dan.user_id).await.unwrap();
    }

    /// Roles: members invite, admins kick lower roles, only the owner sets roles; an
    /// owner leaving hands the group over; every change grows the version.
    pub async fn group_roles_and_versions(db: Db) {
        let w = default_world(db);
        let (o, a, m, n) = (
            w.user("o").await,
            w.user("a").await,
            w.user("m").await,
            w.user("n").await,
        );
        let g = w
            .chat
            .create_group(&o, "team", &[a.user_id, m.user_id])
            .await
            .unwrap();
        let v0 = w.chat.members(&o, g.id).await.unwrap().version;
        let denied = w
            .chat
            .set_role(&a, g.id, m.user_id, Role::Admin)
            .await
            .unwrap_err();
        assert_eq!(denied.kind(), &ErrorKind::PermissionDenied);
        let v1 = w
            .chat
            .set_role(&o, g.id, a.user_id, Role::Admin)
            .await
            .unwrap()
            .version;
        assert!(v1 > v0);
        let v2 = w.chat.invite(&m, g.id, &[n.user_id]).await.unwrap().version;
        assert!(v2 > v1);
        let no = w.chat.kick(&m, g.id, n.user_id).await.unwrap_err();
        assert_eq!(no.kind(), &ErrorKind::PermissionDenied);
        let no = w.chat.kick(&a, g.id, o.user_id).await.unwrap_err();
        assert_eq!(no.kind(), &ErrorKind::PermissionDenied);
        let v3 = w.chat.kick(&a, g.id, n.user_id).await.unwrap().version;
        assert!(v3 > v2);
        let outsider = w.chat.members(&n, g.id).await.unwrap_err();
        assert_eq!(outsider.kind(), &ErrorKind::NotFound);
        let renamed = w
            .chat
            .update_group(&a, g.id, "renamed", "media-1")
            .await
            .unwrap();
        assert_eq!(
            (renamed.title.as_str(), renamed.avatar_media_id.as_str()),
            ("renamed", "media-1")
        );
        let bad = w
            .chat
            .update_group(&a, g.id, &"x".repeat(101), "")
            .await
            .unwrap_err();
        assert_eq!(bad.field(), Some("title"));
        w.chat.leave(&o, g.id).await.unwrap();
        let after = w.chat.members(&a, g.id).await.unwrap();
        let admin = after
            .members
            .iter()
            .find(|x| x.user_id == a.user_id)
            .unwrap();
        assert_eq!(admin.role, Role::Owner);
        assert!(after.version > v3);
    }

    fn raw(
        sender: &str,
        key: &str,
        recipients: Vec<nova_e2ee::DeviceAddress>,
        size: usize,
    ) -> NewMessage {
        // A well-formed Megolm ciphertext of about `size` bytes from a real group session.
        let mut session = vodozemac_session();
        let ciphertext = session
            .encrypt(vec![7_u8; size.saturating_sub(100)])
            .to_bytes();
        NewMessage {
            sender_device: DeviceId::new(sender).unwrap(),
            idempotency_key: key.into(),
            kind: MessageKind::Message,
            envelopes: vec![Envelope {
                algorithm: nova_e2ee::Algorithm::Megolm,
                session_id: session.session_id(),
                ciphertext,
                recipients,
            }],
        }
    }

    fn vodozemac_session() -> vodozemac::megolm::GroupSession {
        vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1())
    }

    async fn count(db: &Db, table: &str) -> i64 {
        use nova_db::{DbResultExt, on_db};
        let sql = format!("SELECT COUNT(*) FROM {table}");
        on_db!(db, read, |c| sqlx::query_scalar(&sql)
            .fetch_one(c)
            .await
            .db())
        .unwrap()
    }

    /// Retries store one message; an oversize ciphertext is a 413 storing nothing; a
    /// flood beyond the bucket is a 429; bad input names its field.
    pub async fn idempotency_size_and_rate_limits(db: Db) {
        let limits = ChatLimits {
            send: Quota::per_minute(5),
            ..ChatLimits::default()
        };
        let w = world(db, limits, SystemClock::shared());
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let c = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let to = vec![nova_e2ee::DeviceAddress::new(
            bob.user_id,
            DeviceId::new("b").unwrap(),
        )];
        let first = w
            .chat
            .send(&ann, c.id, raw("a", "same", to.clone(), 200))
            .await
            .unwrap();
        let again = w
            .chat
            .send(&ann, c.id, raw("a", "same", to.clone(), 200))
            .await
            .unwrap();
        assert_eq!(first.message_id, again.message_id);
        assert!(again.duplicate);
        assert_eq!(count(&w.db, "chat_messages").await, 1);
        assert_eq!(count(&w.db, "chat_inbox").await, 1);
        let big = w
            .chat
            .send(&ann, c.id, raw("a", "big", to.clone(), 70 * 1024))
            .await
            .unwrap_err();
        assert_eq!(big.kind(), &ErrorKind::PayloadTooLarge);
        assert_eq!(big.http_status(), 413);
        assert!(big.message().contains("ciphertext"));
        assert_eq!(count(&w.db, "chat_messages").await, 1);
        let mut bad = raw("a", "bad", to.clone(), 200);
        bad.envelopes[0].ciphertext = vec![1, 2, 3];
        let err = w.chat.send(&ann, c.id, bad).await.unwrap_err();
        assert_eq!(err.field(), Some("envelopes[0].ciphertext"));
        let err = w
            .chat
            .send(&ann, c.id, raw("a", "", to.clone(), 200))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("idempotency_key"));
        let mut limited = 0;
        for i in 0..10 {
            match w
                .chat
                .send(&ann, c.id, raw("a", &format!("f{i}"), to.clone(), 200))
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.kind(), &ErrorKind::RateLimited);
                    assert_eq!(e.http_status(), 429);
                    limited += 1;
                }
            }
        }
        assert!(limited >= 5, "{limited}");
        // Only the accepted ones are stored.
        assert_eq!(count(&w.db, "chat_messages").await, 1 + 10 - limited);
        // A stranger's conversation is a 404.
        let eve = w.user("eve").await;
        let err = w
            .chat
            .send(&eve, c.id, raw("e", "x", to, 200))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NotFound);
    }

    /// Queues: contiguous per-device sequences, ack removes, expiry after the TTL, the
    /// live stream carries deliveries, receipts and typing; archive and mute.
    pub async fn queues_receipts_archive_and_expiry(db: Db) {
        let clock = ManualClock::new(Utc::now());
        let limits = ChatLimits {
            inbox_ttl: Duration::days(30),
            ..ChatLimits::default()
        };
        let w = world(db, limits, clock.shared());
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let c = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let b1 = DeviceId::new("b1").unwrap();
        let b2 = DeviceId::new("b2").unwrap();
        let to = vec![
            nova_e2ee::DeviceAddress::new(bob.user_id, b1.clone()),
            nova_e2ee::DeviceAddress::new(bob.user_id, b2.clone()),
        ];
        let mut live = w.chat.subscribe(&bob, &b1).await.unwrap();
        w.chat.set_archived(&bob, c.id, true, false).await.unwrap();
        assert!(
            w.chat
                .conversations(&bob, false, 0)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(w.chat.conversations(&bob, true, 0).await.unwrap().len(), 1);
        for i in 0..3 {
            w.chat
                .send(&ann, c.id, raw("a", &format!("m{i}"), to.clone(), 200))
                .await
                .unwrap();
        }
        // A new message unarchives.
        assert_eq!(w.chat.conversations(&bob, false, 0).await.unwrap().len(), 1);
        w.chat.set_archived(&bob, c.id, true, true).await.unwrap();
        w.chat
            .send(&ann, c.id, raw("a", "m3", to.clone(), 200))
            .await
            .unwrap();
        assert!(
            w.chat
                .conversations(&bob, false, 0)
                .await
                .unwrap()
                .is_empty()
        );
        w.chat.set_archived(&bob, c.id, false, false).await.unwrap();
        use futures::StreamExt;
        let mut seqs = Vec::new();
        while seqs.len() < 4 {
            let event = tokio::time::timeout(std::time::Duration::from_secs(5), live.next())
                .await
                .unwrap()
                .unwrap();
            if let LiveEvent::Delivery(d) = event {
                seqs.push(d.seq);
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4]);
        let q1 = w.chat.inbox(&bob, &b1, 0, 100).await.unwrap();
        assert_eq!(q1.iter().map(|d| d.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(w.chat.acknowledge(&bob, &b1, 2).await.unwrap(), 2);
        assert_eq!(w.chat.acknowledged(&bob, &b1).await.unwrap(), 2);
        assert_eq!(w.chat.inbox(&bob, &b1, 0, 100).await.unwrap().len(), 2);
        // The sender hears the delivery receipt; reads too.
        let mut ann_live = w
            .chat
            .subscribe(&ann, &DeviceId::new("a").unwrap())
            .await
            .unwrap();
        let last = q1[3].message_id;
        w.chat.mark_read(&bob, c.id, last).await.unwrap();
        w.chat.typing(&bob, c.id).await.unwrap();
        let mut heard = Vec::new();
        while heard.len() < 2 {
            let e = tokio::time::timeout(std::time::Duration::from_secs(5), ann_live.next())
                .await
                .unwrap()
                .unwrap();
            heard.push(e);
        }
        assert!(matches!(heard[0], LiveEvent::Receipt { up_to, .. } if up_to == last));
        assert!(matches!(heard[1], LiveEvent::Typing { user_id, .. } if user_id == bob.user_id));
        // Mute.
        let until = clock.now() + Duration::hours(8);
        let muted = w.chat.mute(&bob, c.id, Some(until)).await.unwrap();
        assert_eq!(
            muted.muted_until.map(|t| t.timestamp_micros()),
            Some(until.timestamp_micros())
        );
        // Expiry: b2 never acknowledged; after 30 days its queue is empty.
        assert_eq!(w.chat.inbox(&bob, &b2, 0, 100).await.unwrap().len(), 4);
        clock.advance(Duration::days(31));
        assert!(w.chat.inbox(&bob, &b2, 0, 100).await.unwrap().is_empty());
        assert_eq!(w.chat.purge_expired().await.unwrap(), 6);
        // Someone else's conversation: 404 for every action.
        let eve = w.user("eve").await;
        for err in [
            w.chat
                .set_archived(&eve, c.id, true, false)
                .await
                .unwrap_err(),
            w.chat.mute(&eve, c.id, None).await.unwrap_err(),
            w.chat.mark_read(&eve, c.id, 1).await.unwrap_err(),
            w.chat.typing(&eve, c.id).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), &ErrorKind::NotFound);
        }
    }
}

nova_testkit::db_conformance_suite!(suite:
    two_devices_exchange_olm_messages,
    group_megolm_and_removed_member,
    who_may_message_whom,
    group_roles_and_versions,
    idempotency_size_and_rate_limits,
    queues_receipts_archive_and_expiry,
);
