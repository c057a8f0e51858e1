//! The gRPC server and client (over 127.0.0.1) in front of the real `ChatService` on
//! SQLite, with real Olm clients (`nova-e2ee-client`): what crosses the wire is what the
//! service answers in-process (the same ciphertext bytes, the same error kinds), a
//! conversation the caller is not in is NOT_FOUND like a missing one, bad input names its
//! field, and the live stream crosses the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use nova_auth::Authenticator;
use nova_chat::grpc::{ChatGrpcClient, ChatGrpcServer};
use nova_chat::model::{MAX_CIPHERTEXT_BYTES, MAX_GROUP_MEMBERS};
use nova_chat::store::SqlChatStore;
use nova_chat::{
    ChatApi, ChatRelations, ChatService, ConversationId, DmPolicy, Envelope, LiveEvent,
    MessageKind, NewMessage, Reach, Role,
};
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_e2ee::{Algorithm, DeviceId, KeyDirectory, KeyDirectoryService};
use nova_e2ee_client::Client;
use nova_proto::nova::chat::v1 as pb;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint};

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(principal(id))
    }
}

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

/// Everyone exists and may talk (who may message whom is tested in `chat.rs`).
struct Open;

#[async_trait]
impl ChatRelations for Open {
    async fn reach(&self, _: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
        let open = Reach {
            exists: true,
            can_interact: true,
            follows_actor: false,
        };
        Ok(vec![open; others.len()])
    }
}

struct Setup {
    chat: Arc<ChatService>,
    keys: Arc<dyn KeyDirectory>,
    client: ChatGrpcClient,
    channel: Channel,
    db: nova_db::Db,
    _backend: nova_testkit::TestSqlite,
}

impl Setup {
    async fn new() -> Self {
        let backend = nova_testkit::sqlite().await;
        let db = backend.db().clone();
        let chat = Arc::new(ChatService::new(
            Arc::new(SqlChatStore::new(db.clone())),
            Arc::new(Open),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let api: Arc<dyn ChatApi> = chat.clone();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(ChatGrpcServer::new(api, Arc::new(TestAuth)).into_service())
                .serve_with_incoming(TcpIncoming::from(listener)),
        );
        let channel = Endpoint::from_shared(endpoint).unwrap().connect_lazy();
        Self {
            chat,
            keys: Arc::new(KeyDirectoryService::sql(db.clone())),
            client: ChatGrpcClient::from_channel(channel.clone()),
            channel,
            db,
            _backend: backend,
        }
    }

    /// An account, its principal (as [`TestAuth`] answers it) and a client carrying its
    /// token.
    async fn user(&self, name: &str) -> (Principal, ChatGrpcClient) {
        let id = nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
            .user_id;
        (principal(id), self.client.with_token(format!("t-{id}")))
    }

    async fn device(&self, p: &Principal, name: &str) -> Client {
        Client::register(self.keys.clone(), p.clone(), DeviceId::new(name).unwrap())
            .await
            .unwrap()
    }

    /// The generated client, for requests this crate's client never sends.
    fn raw(&self) -> pb::chat_service_client::ChatServiceClient<Channel> {
        pb::chat_service_client::ChatServiceClient::new(self.channel.clone())
    }
}

fn with_token<T>(user: UserId, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer t-{user}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    request
}

fn field(e: &Error) -> Option<&str> {
    match e.kind() {
        ErrorKind::InvalidArgument { field } => Some(field),
        _ => None,
    }
}

async fn next(live: &mut BoxStream<'static, LiveEvent>) -> LiveEvent {
    tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .expect("a live event within 5 s")
        .expect("the stream is open")
}

#[tokio::test]
async fn grpc_carries_ciphertext_both_ways_and_the_live_stream() {
    let s = Setup::new().await;
    let ((ann, as_ann), (bob, as_bob)) = (s.user("ann").await, s.user("bob").await);
    let (cat, as_cat) = s.user("cat").await;
    let mut a = s.device(&ann, "ann-phone").await;
    let mut b = s.device(&bob, "bob-phone").await;
    let bob_phone = DeviceId::new("bob-phone").unwrap();

    // Bob's device listens across the wire before anything is sent.
    let mut live = as_bob.subscribe(&bob, &bob_phone).await.unwrap();

    let direct = as_ann.open_direct(&ann, bob.user_id).await.unwrap();
    assert_eq!(direct, s.chat.conversation(&ann, direct.id).await.unwrap());
    assert_eq!(
        as_bob.open_direct(&bob, ann.user_id).await.unwrap().id,
        direct.id
    );

    let out = a
        .encrypt_for_user(bob.user_id, b"hello over grpc")
        .await
        .unwrap();
    let message = NewMessage {
        sender_device: a.address().device_id.clone(),
        idempotency_key: "k1".into(),
        kind: MessageKind::Message,
        envelopes: out.into_iter().map(Envelope::from).collect(),
    };
    let for_bob = message
        .envelopes
        .iter()
        .find(|e| e.recipients.contains(b.address()))
        .unwrap()
        .ciphertext
        .clone();
    let sent = as_ann.send(&ann, direct.id, message.clone()).await.unwrap();
    assert!(!sent.duplicate);

    // The live delivery crosses the wire with the bytes Ann sent.
    let LiveEvent::Delivery(pushed) = next(&mut live).await else {
        panic!("a delivery first");
    };
    assert_eq!(
        (pushed.message_id, &pushed.ciphertext),
        (sent.message_id, &for_bob)
    );

    // The other device's inbox and history: what the service answers in-process, the
    // same bytes, and they decrypt.
    let inbox = as_bob.inbox(&bob, &bob_phone, 0, 10).await.unwrap();
    assert_eq!(inbox, s.chat.inbox(&bob, &bob_phone, 0, 10).await.unwrap());
    // The same envelope as pushed live (the live copy's time is the clock's, the stored
    // one the database's precision).
    let stored_time = nova_chat::Delivery {
        created_at: inbox[0].created_at,
        ..pushed.clone()
    };
    assert_eq!(inbox, [stored_time]);
    assert!((pushed.created_at - inbox[0].created_at).abs() < chrono::Duration::milliseconds(1));
    let opened = b.receive(&inbox[0].encrypted()).await.unwrap().unwrap();
    assert_eq!(opened.plaintext, b"hello over grpc");
    let history = as_bob
        .history(&bob, direct.id, &bob_phone, None, 10)
        .await
        .unwrap();
    assert_eq!(
        history,
        s.chat
            .history(&bob, direct.id, &bob_phone, None, 10)
            .await
            .unwrap()
    );
    assert_eq!(history[0].envelopes[0].ciphertext, for_bob);
    let before = as_bob
        .history(&bob, direct.id, &bob_phone, Some(sent.message_id), 10)
        .await
        .unwrap();
    assert!(before.is_empty(), "nothing before the first message");

    // Acknowledged: the queue is empty, the cursor moved, Ann hears the receipt.
    let mut ann_live = as_ann
        .subscribe(&ann, &a.address().device_id)
        .await
        .unwrap();
    assert_eq!(
        as_bob
            .acknowledge(&bob, &bob_phone, inbox[0].seq)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        as_bob.acknowledged(&bob, &bob_phone).await.unwrap(),
        inbox[0].seq
    );
    assert!(
        as_bob
            .inbox(&bob, &bob_phone, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        next(&mut ann_live).await,
        LiveEvent::Receipt {
            conversation_id: direct.id,
            user_id: bob.user_id,
            receipt: nova_chat::ReceiptKind::Delivered,
            up_to: sent.message_id,
        }
    );

    // A retry with the same key stores nothing new.
    let again = as_ann.send(&ann, direct.id, message.clone()).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message_id, sent.message_id);

    // Typing crosses the stream too.
    as_ann.typing(&ann, direct.id).await.unwrap();
    assert_eq!(
        next(&mut live).await,
        LiveEvent::Typing {
            conversation_id: direct.id,
            user_id: ann.user_id,
        }
    );

    // An outsider gets NOT_FOUND for the conversation, exactly like a missing one.
    let missing = ConversationId::new();
    let outsider = as_cat.conversation(&cat, direct.id).await.unwrap_err();
    let absent = as_cat.conversation(&cat, missing).await.unwrap_err();
    assert_eq!(outsider.kind(), &ErrorKind::NotFound);
    assert_eq!(
        (outsider.kind(), outsider.message()),
        (absent.kind(), absent.message())
    );
    let cat_device = DeviceId::new("cat-phone").unwrap();
    for err in [
        as_cat.members(&cat, direct.id).await.unwrap_err(),
        as_cat
            .history(&cat, direct.id, &cat_device, None, 10)
            .await
            .unwrap_err(),
        as_cat
            .send(&cat, direct.id, message.clone())
            .await
            .unwrap_err(),
        as_cat.mark_read(&cat, direct.id, 1).await.unwrap_err(),
        as_cat.typing(&cat, direct.id).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    }

    // An oversize ciphertext: the same PayloadTooLarge as in-process, nothing stored.
    let big = NewMessage {
        idempotency_key: "big".into(),
        envelopes: vec![Envelope {
            algorithm: Algorithm::Megolm,
            session_id: "s".into(),
            ciphertext: vec![7; MAX_CIPHERTEXT_BYTES + 1],
            recipients: vec![b.address().clone()],
        }],
        ..message.clone()
    };
    let local = s.chat.send(&ann, direct.id, big.clone()).await.unwrap_err();
    let remote = as_ann.send(&ann, direct.id, big).await.unwrap_err();
    assert_eq!(local.kind(), &ErrorKind::PayloadTooLarge);
    assert_eq!(remote.kind(), local.kind());
    assert_eq!(
        as_ann
            .conversation(&ann, direct.id)
            .await
            .unwrap()
            .last_message_id,
        sent.message_id
    );
}

#[tokio::test]
async fn grpc_refuses_callers_without_a_valid_token() {
    let s = Setup::new().await;
    let (ann, as_ann) = s.user("ann").await;
    let (bob, as_bob) = s.user("bob").await;
    // This crate's client without a token: refused before anything is sent.
    let err = s.client.dm_policy(&ann).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let err = s
        .client
        .subscribe(&ann, &DeviceId::new("d").unwrap())
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    // The server, asked without one: UNAUTHENTICATED.
    let status = s
        .raw()
        .get_dm_policy(pb::GetDmPolicyRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let status = s
        .raw()
        .open_direct(pb::OpenDirectRequest {
            user_id: bob.user_id.to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    // Bob's token with Ann's session: refused by the server.
    let err = as_bob.dm_policy(&ann).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    // A forged token.
    let forged = s.client.with_token("t-nobody");
    let err = forged.dm_policy(&ann).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    assert_eq!(as_ann.dm_policy(&ann).await.unwrap(), DmPolicy::Everyone);
}

#[tokio::test]
async fn grpc_names_bad_fields_and_caps_lists() {
    let s = Setup::new().await;
    let (ann, as_ann) = s.user("ann").await;
    let (bob, _) = s.user("bob").await;
    let me = ann.user_id;
    let direct = as_ann.open_direct(&ann, bob.user_id).await.unwrap();

    let err = |status: tonic::Status| Error::from(status);
    let mut raw = s.raw();
    let e = err(raw
        .get_conversation(with_token(
            me,
            pb::GetConversationRequest {
                conversation_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err());
    assert_eq!(field(&e), Some("conversation_id"));
    let e = err(raw
        .open_direct(with_token(
            me,
            pb::OpenDirectRequest {
                user_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err());
    assert_eq!(field(&e), Some("user_id"));
    let e = err(raw
        .set_role(with_token(
            me,
            pb::SetRoleRequest {
                conversation_id: direct.id.to_string(),
                user_id: bob.user_id.to_string(),
                role: "king".into(),
            },
        ))
        .await
        .unwrap_err());
    assert_eq!(field(&e), Some("role"));
    let e = err(raw
        .set_dm_policy(with_token(
            me,
            pb::DmPolicy {
                allow: "friends".into(),
            },
        ))
        .await
        .unwrap_err());
    assert_eq!(field(&e), Some("allow"));
    let e = err(raw
        .inbox(with_token(
            me,
            pb::InboxRequest {
                device_id: "not a device".into(),
                after: 0,
                limit: 0,
            },
        ))
        .await
        .unwrap_err());
    assert_eq!(field(&e), Some("device_id"));
    let send = |r: pb::SendRequest| with_token(me, r);
    let envelope = pb::Envelope {
        algorithm: nova_proto::nova::e2ee::v1::Algorithm::Megolm.into(),
        session_id: "s".into(),
        ciphertext: vec![1, 2, 3],
        recipients: vec![nova_proto::nova::e2ee::v1::DeviceAddress {
            user_id: bob.user_id.to_string(),
            device_id: "bob-phone".into(),
        }],
    };
    let request = pb::SendRequest {
        conversation_id: direct.id.to_string(),
        sender_device: "ann-phone".into(),
        idempotency_key: "k".into(),
        kind: String::new(),
        envelopes: vec![envelope.clone()],
    };
    for (bad, expected) in [
        (
            pb::SendRequest {
                sender_device: "?".into(),
                ..request.clone()
            },
            "sender_device",
        ),
        (
            pb::SendRequest {
                kind: "poke".into(),
                ..request.clone()
            },
            "kind",
        ),
        (
            pb::SendRequest {
                envelopes: vec![pb::Envelope {
                    algorithm: 0,
                    ..envelope.clone()
                }],
                ..request.clone()
            },
            "envelopes[0].algorithm",
        ),
        (
            pb::SendRequest {
                envelopes: vec![pb::Envelope {
                    recipients: vec![nova_proto::nova::e2ee::v1::DeviceAddress {
                        user_id: "nope".into(),
                        device_id: "d".into(),
                    }],
                    ..envelope.clone()
                }],
                ..request.clone()
            },
            "envelopes[0].recipients.user_id",
        ),
        (
            pb::SendRequest {
                envelopes: vec![envelope.clone(); nova_chat::model::MAX_ENVELOPES + 1],
                ..request.clone()
            },
            "envelopes",
        ),
        (
            pb::SendRequest {
                envelopes: vec![pb::Envelope {
                    recipients: vec![
                        envelope.recipients[0].clone();
                        nova_e2ee::model::MAX_RECIPIENTS + 1
                    ],
                    ..envelope.clone()
                }],
                ..request.clone()
            },
            "envelopes[0].recipients",
        ),
        // Parsed, then refused by the service: not a Megolm message.
        (request.clone(), "envelopes[0].ciphertext"),
    ] {
        let e = err(raw.send(send(bad)).await.unwrap_err());
        assert_eq!(field(&e), Some(expected), "{e}");
    }

    // Lists are capped before any work, naming the field.
    let many: Vec<UserId> = (0..=MAX_GROUP_MEMBERS).map(|_| UserId::new()).collect();
    let e = as_ann.create_group(&ann, "big", &many).await.unwrap_err();
    assert_eq!(field(&e), Some("member_ids"));
    let group = as_ann
        .create_group(&ann, "small", &[bob.user_id])
        .await
        .unwrap();
    let e = as_ann.invite(&ann, group.id, &many).await.unwrap_err();
    assert_eq!(field(&e), Some("user_ids"));
    // A direct conversation is not a group: the service's own answer crosses unchanged.
    let e = as_ann
        .invite(&ann, direct.id, &[UserId::new()])
        .await
        .unwrap_err();
    assert_eq!(field(&e), Some("conversation_id"));
}

#[tokio::test]
async fn grpc_round_trips_groups_settings_and_archiving() {
    let s = Setup::new().await;
    let (ann, as_ann) = s.user("ann").await;
    let (bob, as_bob) = s.user("bob").await;
    let (cat, _) = s.user("cat").await;
    let group = as_ann
        .create_group(&ann, "  trio ", &[bob.user_id, cat.user_id])
        .await
        .unwrap();
    assert_eq!(group, s.chat.conversation(&ann, group.id).await.unwrap());
    assert_eq!((group.title.as_str(), group.role), ("trio", Role::Owner));
    let members = as_ann
        .set_role(&ann, group.id, cat.user_id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(members, s.chat.members(&ann, group.id).await.unwrap());
    assert_eq!(as_bob.members(&bob, group.id).await.unwrap(), members);
    let renamed = as_ann
        .update_group(&ann, group.id, "quartet", "media-1")
        .await
        .unwrap();
    assert_eq!(
        (renamed.title.as_str(), renamed.avatar_media_id.as_str()),
        ("quartet", "media-1")
    );
    let e = as_bob
        .update_group(&bob, group.id, "mine", "")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    let kicked = as_ann.kick(&ann, group.id, cat.user_id).await.unwrap();
    assert_eq!(kicked.members.len(), 2);
    assert!(kicked.version > members.version);
    as_bob.leave(&bob, group.id).await.unwrap();
    let e = as_bob.conversation(&bob, group.id).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);

    // Archive, mute, read markers and the DM setting answer as in-process.
    let archived = as_ann
        .set_archived(&ann, group.id, true, true)
        .await
        .unwrap();
    assert!(archived.archived && archived.keep_archived);
    let listed = as_ann.conversations(&ann, true, 10).await.unwrap();
    assert_eq!(listed, s.chat.conversations(&ann, true, 10).await.unwrap());
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [group.id]);
    assert!(
        as_ann
            .conversations(&ann, false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    let muted = as_ann.mute(&ann, group.id, Some(until)).await.unwrap();
    assert!(muted.muted_until.is_some());
    assert_eq!(muted, s.chat.conversation(&ann, group.id).await.unwrap());
    let unmuted = as_ann.mute(&ann, group.id, None).await.unwrap();
    assert_eq!(unmuted.muted_until, None);
    let e = as_ann
        .mark_read(&ann, ConversationId::new(), 1)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert_eq!(
        as_ann.set_dm_policy(&ann, DmPolicy::Nobody).await.unwrap(),
        DmPolicy::Nobody
    );
    assert_eq!(as_ann.dm_policy(&ann).await.unwrap(), DmPolicy::Nobody);
    assert_eq!(s.chat.dm_policy(&ann).await.unwrap(), DmPolicy::Nobody);
}

/// Calls and location shares cross the wire: the same calls as in-process, call and
/// signal events on the live stream, bad fields named, strangers NOT_FOUND, TURN
/// UNAVAILABLE when no secret is set.
#[tokio::test]
async fn grpc_carries_calls_signaling_and_location_shares() {
    use nova_chat::{CallApi, CallStatus, LocationUpdate, SignalKind};
    let s = Setup::new().await;
    let ((ann, as_ann), (bob, as_bob)) = (s.user("ann").await, s.user("bob").await);
    let (cat, as_cat) = s.user("cat").await;
    let (ann_phone, bob_phone) = (
        DeviceId::new("ann-phone").unwrap(),
        DeviceId::new("bob-phone").unwrap(),
    );
    let direct = as_ann.open_direct(&ann, bob.user_id).await.unwrap();
    let mut bob_live = as_bob.subscribe(&bob, &bob_phone).await.unwrap();

    let call = as_ann
        .start_call(&ann, direct.id, &ann_phone, true)
        .await
        .unwrap();
    assert_eq!(call, s.chat.call(&ann, call.id).await.unwrap());
    let LiveEvent::Call { call: rung } = next(&mut bob_live).await else {
        panic!("the call rings first");
    };
    assert_eq!((rung.id, rung.status), (call.id, CallStatus::Ringing));
    let accepted = as_bob.accept_call(&bob, call.id, &bob_phone).await.unwrap();
    assert_eq!(accepted.status, CallStatus::Active);
    as_ann
        .signal(&ann, call.id, bob.user_id, SignalKind::Offer, "sdp".into())
        .await
        .unwrap();
    loop {
        match next(&mut bob_live).await {
            LiveEvent::Signal(sig) => {
                assert_eq!((sig.kind, sig.payload.as_str()), (SignalKind::Offer, "sdp"));
                assert_eq!(sig.from.device_id, ann_phone);
                break;
            }
            LiveEvent::Call { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // Strangers and bad fields.
    let err = as_cat.call(&cat, call.id).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let err = s
        .raw()
        .get_call(with_token(
            ann.user_id,
            pb::GetCallRequest {
                call_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert_eq!(err.metadata().get("nova-field").unwrap(), "call_id");
    let err = as_ann.turn_credentials(&ann).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    let ended = as_bob.hang_up(&bob, call.id).await.unwrap();
    assert_eq!(ended.status, CallStatus::Ended);
    assert_eq!(ended, s.chat.call(&ann, call.id).await.unwrap());

    // Location shares.
    let err = as_ann
        .start_location_share(&ann, direct.id, 61)
        .await
        .unwrap_err();
    assert_eq!(field(&err), Some("duration_secs"));
    let share = as_ann
        .start_location_share(&ann, direct.id, 900)
        .await
        .unwrap();
    assert_eq!(
        as_bob.location_shares(&bob, direct.id).await.unwrap(),
        vec![share.clone()]
    );
    let mut session =
        vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
    let update = LocationUpdate {
        sender_device: ann_phone.clone(),
        envelopes: vec![Envelope {
            algorithm: Algorithm::Megolm,
            session_id: session.session_id(),
            ciphertext: session.encrypt(b"geo:1,2").to_bytes(),
            recipients: vec![nova_e2ee::DeviceAddress::new(
                bob.user_id,
                bob_phone.clone(),
            )],
        }],
    };
    as_ann
        .update_location(&ann, share.id, update.clone())
        .await
        .unwrap();
    loop {
        match next(&mut bob_live).await {
            LiveEvent::Location(d) => {
                assert_eq!(d.ciphertext, update.envelopes[0].ciphertext);
                break;
            }
            LiveEvent::Call { .. } | LiveEvent::LocationShare { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let err = as_ann
        .update_location(&ann, share.id, update.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::RateLimited);
    let stopped = as_ann.stop_location_share(&ann, share.id).await.unwrap();
    assert!(stopped.stopped_at.is_some());
    assert!(
        as_bob
            .location_shares(&bob, direct.id)
            .await
            .unwrap()
            .is_empty()
    );
}
