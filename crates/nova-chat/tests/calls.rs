//! Calls and live location sharing on SQLite and PostgreSQL, with the real social, graph
//! and user services on the same database (blocks as for messages) and an injected
//! clock (the ring timeout and share expiry without sleeping): ring → accept → SDP/ICE
//! relayed to the joined device → hang up; a ring timeout ends a call as missed; busy;
//! decline; group size; non-members and blocked pairs answered `NotFound`; TURN
//! credentials checked against the coturn formula computed outside Rust; a share whose
//! updates stop after expiry or stop, a rate limit, and no coordinates stored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use async_trait::async_trait;
use nova_chat::store::SqlChatStore;
use nova_chat::{CallSettings, ChatRelations, ChatService, Reach};
use nova_core::cursor::CursorCodec;
use nova_core::{Principal, SharedClock, SystemClock, UserId};
use nova_db::Db;
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

struct World {
    db: Db,
    social: Arc<SocialService>,
    chat: Arc<ChatService>,
}

fn world(db: Db, settings: CallSettings, clock: SharedClock) -> World {
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
    .with_calls(settings)
    .with_clock(clock);
    World {
        db,
        social,
        chat: Arc::new(chat),
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

    use std::time::Duration as StdDuration;

    use chrono::{Duration, Utc};
    use futures::StreamExt;
    use futures::stream::BoxStream;
    use nova_chat::{
        CallApi, CallStatus, ChatApi, EndReason, Envelope, LiveEvent, LocationUpdate,
        ParticipantState, SignalKind,
    };
    use nova_core::{ErrorKind, ManualClock};
    use nova_db::{DbResultExt, on_db};
    use nova_e2ee::{DeviceAddress, DeviceId};

    fn dev(name: &str) -> DeviceId {
        DeviceId::new(name).unwrap()
    }

    fn manual() -> ManualClock {
        ManualClock::new(Utc::now())
    }

    /// The next live event `keep` accepts (others skipped), within 5 s.
    async fn next_where(
        live: &mut BoxStream<'static, LiveEvent>,
        keep: impl Fn(&LiveEvent) -> bool,
    ) -> LiveEvent {
        loop {
            let e = tokio::time::timeout(StdDuration::from_secs(5), live.next())
                .await
                .expect("a live event within 5 s")
                .expect("the stream is open");
            if keep(&e) {
                return e;
            }
        }
    }

    async fn call_event(live: &mut BoxStream<'static, LiveEvent>, status: CallStatus) {
        next_where(
            live,
            |e| matches!(e, LiveEvent::Call { call } if call.status == status),
        )
        .await;
    }

    /// Nothing `keep` accepts arrives within 300 ms.
    async fn none_where(
        live: &mut BoxStream<'static, LiveEvent>,
        keep: impl Fn(&LiveEvent) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + StdDuration::from_millis(300);
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, live.next()).await {
            assert!(!keep(&e), "unexpected {e:?}");
        }
    }

    async fn event_types(db: &Db) -> Vec<String> {
        on_db!(db, read, |c| {
            sqlx::query_scalar(
                "SELECT event_type FROM outbox WHERE event_type LIKE 'chat.call%' \
                 OR event_type LIKE 'chat.location%' ORDER BY seq",
            )
            .fetch_all(c)
            .await
            .db()
        })
        .unwrap()
    }

    fn state(call: &nova_chat::Call, user: UserId) -> ParticipantState {
        call.participant(user).unwrap().state
    }

    /// Ann rings Bob; Bob's devices hear it; Bob accepts on his phone; SDP and ICE go
    /// to the joined devices only; Ann hangs up and the call is over for both.
    pub async fn ring_accept_signal_and_hang_up(db: Db) {
        let w = world(db, CallSettings::default(), SystemClock::shared());
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let c = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let mut ann_live = w.chat.subscribe(&ann, &dev("ann-phone")).await.unwrap();
        let mut bob_phone = w.chat.subscribe(&bob, &dev("bob-phone")).await.unwrap();
        let mut bob_laptop = w.chat.subscribe(&bob, &dev("bob-laptop")).await.unwrap();

        let call = w
            .chat
            .start_call(&ann, c.id, &dev("ann-phone"), true)
            .await
            .unwrap();
        assert_eq!(call.status, CallStatus::Ringing);
        assert_eq!(state(&call, ann.user_id), ParticipantState::Joined);
        assert_eq!(state(&call, bob.user_id), ParticipantState::Ringing);
        // Every device of Bob rings.
        call_event(&mut bob_phone, CallStatus::Ringing).await;
        call_event(&mut bob_laptop, CallStatus::Ringing).await;
        // One call per conversation at a time.
        let again = w
            .chat
            .start_call(&bob, c.id, &dev("bob-phone"), false)
            .await
            .unwrap_err();
        assert_eq!(again.kind(), &ErrorKind::Conflict);
        // Nobody signals before joining.
        let early = w
            .chat
            .signal(&bob, call.id, ann.user_id, SignalKind::Answer, "x".into())
            .await
            .unwrap_err();
        assert_eq!(early.kind(), &ErrorKind::Conflict);

        let accepted = w
            .chat
            .accept_call(&bob, call.id, &dev("bob-phone"))
            .await
            .unwrap();
        assert_eq!(accepted.status, CallStatus::Active);
        assert!(accepted.answered_at.is_some());
        call_event(&mut ann_live, CallStatus::Active).await;

        // Offer, answer and ICE reach exactly the joined devices, unchanged.
        let is_signal = |e: &LiveEvent| matches!(e, LiveEvent::Signal(_));
        let offer = "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\n".to_owned();
        w.chat
            .signal(&ann, call.id, bob.user_id, SignalKind::Offer, offer.clone())
            .await
            .unwrap();
        let LiveEvent::Signal(s) = next_where(&mut bob_phone, is_signal).await else {
            unreachable!()
        };
        assert_eq!(
            (s.call_id, s.kind, &s.payload),
            (call.id, SignalKind::Offer, &offer)
        );
        assert_eq!(s.from, DeviceAddress::new(ann.user_id, dev("ann-phone")));
        w.chat
            .signal(
                &bob,
                call.id,
                ann.user_id,
                SignalKind::Answer,
                "answer-sdp".into(),
            )
            .await
            .unwrap();
        let LiveEvent::Signal(s) = next_where(&mut ann_live, is_signal).await else {
            unreachable!()
        };
        assert_eq!(
            (s.kind, s.payload.as_str()),
            (SignalKind::Answer, "answer-sdp")
        );
        for (from, to, live) in [(&ann, &bob, &mut bob_phone), (&bob, &ann, &mut ann_live)] {
            let candidate = format!("candidate:1 1 UDP 2122252543 10.0.0.{} 54400 typ host", 1);
            w.chat
                .signal(
                    from,
                    call.id,
                    to.user_id,
                    SignalKind::Ice,
                    candidate.clone(),
                )
                .await
                .unwrap();
            let LiveEvent::Signal(s) = next_where(live, is_signal).await else {
                unreachable!()
            };
            assert_eq!((s.kind, s.payload), (SignalKind::Ice, candidate));
        }
        none_where(&mut bob_laptop, is_signal).await;
        // Size cap, and a target who is not in the call.
        let big = w
            .chat
            .signal(
                &ann,
                call.id,
                bob.user_id,
                SignalKind::Offer,
                "x".repeat(13 * 1024),
            )
            .await
            .unwrap_err();
        assert_eq!(big.kind(), &ErrorKind::PayloadTooLarge);
        let cat = w.user("cat").await;
        let nobody = w
            .chat
            .signal(&ann, call.id, cat.user_id, SignalKind::Ice, "c".into())
            .await
            .unwrap_err();
        assert_eq!(nobody.kind(), &ErrorKind::NotFound);

        let ended = w.chat.hang_up(&ann, call.id).await.unwrap();
        assert_eq!(ended.status, CallStatus::Ended);
        assert_eq!(ended.end_reason, Some(EndReason::Completed));
        assert_eq!(state(&ended, bob.user_id), ParticipantState::Left);
        call_event(&mut bob_phone, CallStatus::Ended).await;
        assert_eq!(w.chat.call(&bob, call.id).await.unwrap(), ended);
        // Hanging up again changes nothing; signaling is over.
        assert_eq!(w.chat.hang_up(&bob, call.id).await.unwrap(), ended);
        let late = w
            .chat
            .signal(&bob, call.id, ann.user_id, SignalKind::Ice, "c".into())
            .await
            .unwrap_err();
        assert_eq!(late.kind(), &ErrorKind::Conflict);
        assert_eq!(
            event_types(&w.db).await,
            ["chat.call_started", "chat.call_ended"]
        );
        // The conversation is free for the next call.
        w.chat
            .start_call(&bob, c.id, &dev("bob-phone"), false)
            .await
            .unwrap();
    }

    /// Unanswered calls end as missed after the ring timeout: by the sweep, and by any
    /// read of the call when the sweep has not run yet. Time is the injected clock's.
    pub async fn ring_timeout_ends_as_missed(db: Db) {
        let clock = manual();
        let settings = CallSettings {
            ring_timeout: Duration::seconds(45),
            ..CallSettings::default()
        };
        let w = world(db, settings, clock.shared());
        let (ann, bob, cat) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("cat").await,
        );
        let ab = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let call = w
            .chat
            .start_call(&ann, ab.id, &dev("ann-phone"), false)
            .await
            .unwrap();
        let mut bob_live = w.chat.subscribe(&bob, &dev("bob-phone")).await.unwrap();
        clock.advance(Duration::seconds(44));
        assert_eq!(w.chat.expire_calls().await.unwrap(), 0);
        assert_eq!(
            w.chat.call(&bob, call.id).await.unwrap().status,
            CallStatus::Ringing
        );
        clock.advance(Duration::seconds(2));
        assert_eq!(w.chat.expire_calls().await.unwrap(), 1);
        call_event(&mut bob_live, CallStatus::Ended).await;
        let missed = w.chat.call(&ann, call.id).await.unwrap();
        assert_eq!(missed.end_reason, Some(EndReason::Missed));
        assert_eq!(state(&missed, bob.user_id), ParticipantState::Missed);
        let late = w
            .chat
            .accept_call(&bob, call.id, &dev("bob-phone"))
            .await
            .unwrap_err();
        assert_eq!(late.kind(), &ErrorKind::Conflict);
        assert_eq!(w.chat.expire_calls().await.unwrap(), 0);

        // Without the sweep: accepting after the timeout finds the call missed.
        let bc = w.chat.open_direct(&bob, cat.user_id).await.unwrap();
        let call = w
            .chat
            .start_call(&bob, bc.id, &dev("bob-phone"), true)
            .await
            .unwrap();
        clock.advance(Duration::seconds(46));
        let late = w
            .chat
            .accept_call(&cat, call.id, &dev("cat-phone"))
            .await
            .unwrap_err();
        assert_eq!(late.kind(), &ErrorKind::Conflict);
        let missed = w.chat.call(&cat, call.id).await.unwrap();
        assert_eq!(
            (missed.status, missed.end_reason),
            (CallStatus::Ended, Some(EndReason::Missed))
        );
        // A new call may ring at once in either conversation.
        w.chat
            .start_call(&cat, bc.id, &dev("cat-phone"), true)
            .await
            .unwrap();
        w.chat
            .start_call(&ann, ab.id, &dev("ann-phone"), true)
            .await
            .unwrap();
    }

    /// Someone in a call is busy for other callers; a declined call ends as declined; a
    /// caller in a call cannot ring elsewhere; groups ring everyone and cap the size.
    pub async fn busy_decline_and_group_size(db: Db) {
        let settings = CallSettings {
            max_participants: 3,
            ..CallSettings::default()
        };
        let w = world(db, settings, SystemClock::shared());
        let mut people = Vec::new();
        for name in ["ann", "bob", "cat", "dan", "eve"] {
            people.push(w.user(name).await);
        }
        let [ann, bob, cat, dan, eve] = people.try_into().unwrap();
        let ab = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let call = w
            .chat
            .start_call(&ann, ab.id, &dev("a"), false)
            .await
            .unwrap();
        w.chat.accept_call(&bob, call.id, &dev("b")).await.unwrap();
        // Bob is busy: Cat's call ends at once.
        let cb = w.chat.open_direct(&cat, bob.user_id).await.unwrap();
        let busy = w
            .chat
            .start_call(&cat, cb.id, &dev("c"), false)
            .await
            .unwrap();
        assert_eq!(
            (busy.status, busy.end_reason),
            (CallStatus::Ended, Some(EndReason::Busy))
        );
        assert_eq!(state(&busy, bob.user_id), ParticipantState::Busy);
        // Bob cannot ring anyone while in a call, nor accept another.
        let bd = w.chat.open_direct(&bob, dan.user_id).await.unwrap();
        let err = w
            .chat
            .start_call(&bob, bd.id, &dev("b"), false)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        // Declined.
        let cd = w.chat.open_direct(&cat, dan.user_id).await.unwrap();
        let call2 = w
            .chat
            .start_call(&cat, cd.id, &dev("c"), false)
            .await
            .unwrap();
        let declined = w.chat.decline_call(&dan, call2.id).await.unwrap();
        assert_eq!(declined.end_reason, Some(EndReason::Declined));
        assert_eq!(state(&declined, cat.user_id), ParticipantState::Left);
        // A caller who hangs up before an answer cancels; the callee missed it.
        let call3 = w
            .chat
            .start_call(&cat, cd.id, &dev("c"), false)
            .await
            .unwrap();
        let cancelled = w.chat.hang_up(&cat, call3.id).await.unwrap();
        assert_eq!(cancelled.end_reason, Some(EndReason::Cancelled));
        assert_eq!(state(&cancelled, dan.user_id), ParticipantState::Missed);
        w.chat.hang_up(&ann, call.id).await.unwrap();

        // A group of five rings four; at most three are in at once.
        let ids: Vec<UserId> = [&bob, &cat, &dan, &eve].iter().map(|p| p.user_id).collect();
        let group = w.chat.create_group(&ann, "five", &ids).await.unwrap();
        let g = w
            .chat
            .start_call(&ann, group.id, &dev("a"), true)
            .await
            .unwrap();
        assert_eq!(g.participants.len(), 5);
        assert_eq!(g.participants[0].user_id, ann.user_id);
        w.chat.accept_call(&bob, g.id, &dev("b")).await.unwrap();
        w.chat.decline_call(&cat, g.id).await.unwrap();
        w.chat.accept_call(&dan, g.id, &dev("d")).await.unwrap();
        let full = w.chat.accept_call(&eve, g.id, &dev("e")).await.unwrap_err();
        assert_eq!(full.kind(), &ErrorKind::Conflict);
        // Bob leaves; Eve may come in; the call goes on while two remain.
        let left = w.chat.hang_up(&bob, g.id).await.unwrap();
        assert_eq!(left.status, CallStatus::Active);
        w.chat.accept_call(&eve, g.id, &dev("e")).await.unwrap();
        w.chat.hang_up(&ann, g.id).await.unwrap();
        let on = w.chat.hang_up(&dan, g.id).await.unwrap();
        assert_eq!(
            (on.status, on.end_reason),
            (CallStatus::Ended, Some(EndReason::Completed))
        );
    }

    /// A call or share of a conversation the caller is not in answers `NotFound` like a
    /// missing one; a blocked pair can neither call nor share; a group call does not
    /// ring a member who blocked the caller.
    pub async fn strangers_and_blocks_get_not_found(db: Db) {
        let w = world(db, CallSettings::default(), SystemClock::shared());
        let (ann, bob, cat, eve) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("cat").await,
            w.user("eve").await,
        );
        let ab = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let call = w
            .chat
            .start_call(&ann, ab.id, &dev("a"), false)
            .await
            .unwrap();
        let missing_call = nova_chat::CallId::new();
        let missing = w.chat.call(&eve, missing_call).await.unwrap_err();
        assert_eq!(missing.kind(), &ErrorKind::NotFound);
        for err in [
            w.chat.call(&eve, call.id).await.unwrap_err(),
            w.chat
                .accept_call(&eve, call.id, &dev("e"))
                .await
                .unwrap_err(),
            w.chat.decline_call(&eve, call.id).await.unwrap_err(),
            w.chat.hang_up(&eve, call.id).await.unwrap_err(),
            w.chat
                .signal(&eve, call.id, ann.user_id, SignalKind::Offer, "o".into())
                .await
                .unwrap_err(),
            w.chat
                .start_call(&eve, ab.id, &dev("e"), false)
                .await
                .unwrap_err(),
            w.chat
                .start_location_share(&eve, ab.id, 900)
                .await
                .unwrap_err(),
            w.chat.location_shares(&eve, ab.id).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), missing.kind());
        }
        w.chat.hang_up(&ann, call.id).await.unwrap();

        // A blocked pair: no call, no share, the same answer.
        w.social.block(&bob, ann.user_id).await.unwrap();
        for err in [
            w.chat
                .start_call(&ann, ab.id, &dev("a"), false)
                .await
                .unwrap_err(),
            w.chat
                .start_location_share(&ann, ab.id, 3600)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.kind(), &ErrorKind::NotFound);
        }
        // In a group, Bob (who blocked Ann) is not rung by Ann.
        let group = w
            .chat
            .create_group(&cat, "g", &[ann.user_id, bob.user_id])
            .await
            .unwrap();
        let g = w
            .chat
            .start_call(&ann, group.id, &dev("a"), false)
            .await
            .unwrap();
        assert!(g.participant(bob.user_id).is_none());
        assert_eq!(state(&g, cat.user_id), ParticipantState::Ringing);
        let not_rung = w.chat.call(&bob, g.id).await.unwrap_err();
        assert_eq!(not_rung.kind(), &ErrorKind::NotFound);
    }

    /// TURN credentials are coturn's: `username = "<expiry>:<user>"`, `credential =
    /// base64(HMAC-SHA1(secret, username))`. The expected credential was computed with
    /// Python's hmac module, not with this crate's code.
    pub async fn turn_credentials_follow_coturn(db: Db) {
        let clock = ManualClock::at_epoch_seconds(1_700_000_000);
        let settings = CallSettings {
            turn_secret: Some("s3cret".into()),
            turn_urls: vec!["turn:turn.example.com:3478".into()],
            turn_ttl: StdDuration::from_secs(600),
            ..CallSettings::default()
        };
        let w = world(db.clone(), settings, clock.shared());
        let user: UserId = "0192f0a0-0000-7000-8000-000000000001".parse().unwrap();
        let p = Principal::user(user, nova_core::SessionId::new());
        let t = w.chat.turn_credentials(&p).await.unwrap();
        assert_eq!(
            t.username,
            "1700000600:0192f0a0-0000-7000-8000-000000000001"
        );
        // python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b's3cret',
        //   b'1700000600:0192f0a0-0000-7000-8000-000000000001', hashlib.sha1).digest()))"
        assert_eq!(t.credential, "Qo9IgTcyWreNiRDfxjgIbcqYDNI=");
        assert_eq!(t.ttl_secs, 600);
        assert_eq!(t.urls, ["turn:turn.example.com:3478"]);
        assert_eq!(t.expires_at.timestamp(), 1_700_000_600);
        // Without a secret there are no credentials to hand out.
        let off = world(db, CallSettings::default(), clock.shared());
        let err = off.chat.turn_credentials(&p).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
    }

    fn location(sender: &str, recipients: Vec<DeviceAddress>, text: &[u8]) -> LocationUpdate {
        let mut session =
            vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
        LocationUpdate {
            sender_device: dev(sender),
            envelopes: vec![Envelope {
                algorithm: nova_e2ee::Algorithm::Megolm,
                session_id: session.session_id(),
                ciphertext: session.encrypt(text).to_bytes(),
                recipients,
            }],
        }
    }

    /// A share relays ciphertext updates live (never stored), at most one per 5 s; after
    /// its expiry (the injected clock) or a stop, updates are refused and not delivered.
    pub async fn location_shares_expire_and_rate_limit(db: Db) {
        let clock = manual();
        let w = world(db, CallSettings::default(), clock.shared());
        let (ann, bob, eve) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("eve").await,
        );
        let c = w.chat.open_direct(&ann, bob.user_id).await.unwrap();
        let mut bob_live = w.chat.subscribe(&bob, &dev("bob-phone")).await.unwrap();
        let to_bob = vec![DeviceAddress::new(bob.user_id, dev("bob-phone"))];
        for bad in [0, 60, 7200] {
            let err = w
                .chat
                .start_location_share(&ann, c.id, bad)
                .await
                .unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::InvalidArgument { field } if field == "duration_secs"),
                "{err:?}"
            );
        }
        let share = w.chat.start_location_share(&ann, c.id, 900).await.unwrap();
        assert_eq!(share.expires_at - share.started_at, Duration::minutes(15));
        next_where(&mut bob_live, |e| {
            matches!(e, LiveEvent::LocationShare { .. })
        })
        .await;
        assert_eq!(
            w.chat.location_shares(&bob, c.id).await.unwrap(),
            vec![share.clone()]
        );
        let coordinates = b"geo:52.520008,13.404954";
        w.chat
            .update_location(
                &ann,
                share.id,
                location("ann-phone", to_bob.clone(), coordinates),
            )
            .await
            .unwrap();
        let is_location = |e: &LiveEvent| matches!(e, LiveEvent::Location(_));
        let LiveEvent::Location(got) = next_where(&mut bob_live, is_location).await else {
            unreachable!()
        };
        assert_eq!(got.share_id, share.id);
        assert_eq!(
            got.sender,
            DeviceAddress::new(ann.user_id, dev("ann-phone"))
        );
        // A second update within 5 s: 429, nothing relayed.
        let flood = w
            .chat
            .update_location(&ann, share.id, location("ann-phone", to_bob.clone(), b"x"))
            .await
            .unwrap_err();
        assert_eq!(flood.kind(), &ErrorKind::RateLimited);
        none_where(&mut bob_live, is_location).await;
        // Only the sharer updates or stops it; others get NotFound.
        for err in [
            w.chat
                .update_location(
                    &bob,
                    share.id,
                    location(
                        "bob-phone",
                        vec![DeviceAddress::new(ann.user_id, dev("ann-phone"))],
                        b"x",
                    ),
                )
                .await
                .unwrap_err(),
            w.chat
                .stop_location_share(&eve, share.id)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.kind(), &ErrorKind::NotFound);
        }
        // Expired (server-side, by the clock): refused, not delivered, no longer listed.
        clock.advance(Duration::minutes(16));
        let expired = w
            .chat
            .update_location(
                &ann,
                share.id,
                location("ann-phone", to_bob.clone(), b"late"),
            )
            .await
            .unwrap_err();
        assert_eq!(expired.kind(), &ErrorKind::Conflict);
        none_where(&mut bob_live, is_location).await;
        assert!(w.chat.location_shares(&bob, c.id).await.unwrap().is_empty());

        // Stopped early: the same.
        let share = w.chat.start_location_share(&ann, c.id, 3600).await.unwrap();
        let stopped = w.chat.stop_location_share(&ann, share.id).await.unwrap();
        assert!(stopped.stopped_at.is_some());
        assert_eq!(
            w.chat.stop_location_share(&ann, share.id).await.unwrap(),
            stopped
        );
        let after = w
            .chat
            .update_location(&ann, share.id, location("ann-phone", to_bob, b"after"))
            .await
            .unwrap_err();
        assert_eq!(after.kind(), &ErrorKind::Conflict);
        none_where(&mut bob_live, is_location).await;

        // Only the sessions are stored: no coordinates anywhere in the new tables or the
        // outbox.
        let shares: i64 = on_db!(&w.db, read, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM location_shares")
                .fetch_one(c)
                .await
                .db()
        })
        .unwrap();
        assert_eq!(shares, 2);
        let payloads: Vec<(Vec<u8>,)> = on_db!(&w.db, read, |c| {
            sqlx::query_as("SELECT payload FROM outbox")
                .fetch_all(c)
                .await
                .db()
        })
        .unwrap();
        for (bytes,) in payloads {
            assert!(!bytes.windows(9).any(|w| w == b"52.520008"));
        }
        assert_eq!(
            event_types(&w.db).await,
            ["chat.location_share_started", "chat.location_share_started"]
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    ring_accept_signal_and_hang_up,
    ring_timeout_ends_as_missed,
    busy_decline_and_group_size,
    strangers_and_blocks_get_not_found,
    turn_credentials_follow_coturn,
    location_shares_expire_and_rate_limit,
);
