//! Chat fan-out over real WebSockets: one Megolm message to a group of 1,000 members,
//! every member's device connected to the live endpoint (`/api/v1/chat/ws`, served by
//! axum on a local port, in-process pub/sub, SQLite file), timed until the last socket
//! has it. The load generator (the 999 receiving sockets) runs in the same process.
//!
//! Target (issue 17): p99 ≤ 50 ms per message to 1,000 members on `nova`. Throughput is
//! reported as deliveries per second (999 per message); the p50/p99 of the fan-out time
//! over `SAMPLES` messages is printed beside it. No peer bench exists here to compare.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::{SinkExt, StreamExt};
use nova_chat::store::SqlChatStore;
use nova_chat::{
    ChatApi, ChatLimits, ChatRelations, ChatService, Envelope, MessageKind, NewMessage, Reach,
};
use nova_core::{Principal, SessionId, UserId};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};
use nova_kv::Quota;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 1000;
const SAMPLES: usize = 200;

struct Open;

#[async_trait]
impl ChatRelations for Open {
    async fn reach(&self, _: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
        Ok(vec![
            Reach {
                exists: true,
                can_interact: true,
                follows_actor: true
            };
            others.len()
        ])
    }
}

/// Bearer tokens are user ids (the bench has no identity service).
struct IdTokens;

#[async_trait]
impl nova_auth::Authenticator for IdTokens {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        Ok(Principal::user(
            UserId::parse_field(bearer, "token")?,
            SessionId::new(),
        ))
    }
}

struct Setup {
    chat: Arc<ChatService>,
    owner: Principal,
    group: nova_chat::ConversationId,
    recipients: Vec<DeviceAddress>,
    delivered: mpsc::UnboundedReceiver<()>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = nova_db::Db::open_sqlite_file(&dir.path().join("chat.db"), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let limits = ChatLimits {
        send: Quota::per_second(1_000_000),
        ..ChatLimits::default()
    };
    let chat = Arc::new(
        ChatService::new(Arc::new(SqlChatStore::new(db)), Arc::new(Open)).with_limits(limits),
    );
    let router = nova_chat::http::router(chat.clone(), Arc::new(IdTokens));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let users: Vec<UserId> = (0..MEMBERS).map(|_| UserId::new()).collect();
    let owner = Principal::user(users[0], SessionId::new());
    let group = chat
        .create_group(&owner, "bench", &users[1..])
        .await
        .unwrap()
        .id;
    let (tx, delivered) = mpsc::unbounded_channel();
    let mut recipients = Vec::new();
    for user in &users[1..] {
        let device = DeviceId::new("d").unwrap();
        recipients.push(DeviceAddress::new(*user, device));
        let url = format!("ws://127.0.0.1:{port}/api/v1/chat/ws");
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let auth = format!(r#"{{"type":"auth","token":"{user}","device_id":"d"}}"#);
        socket.send(Message::Text(auth.into())).await.unwrap();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Text(text) = frame
                    && text.as_str().starts_with(r#"{"type":"delivery""#)
                {
                    let _ = tx.send(());
                }
            }
        });
    }
    Setup {
        chat,
        owner,
        group,
        recipients,
        delivered,
        _dir: dir,
    }
}

fn message(
    session: &mut vodozemac::megolm::GroupSession,
    recipients: &[DeviceAddress],
    n: u64,
) -> NewMessage {
    NewMessage {
        sender_device: DeviceId::new("owner").unwrap(),
        idempotency_key: format!("m{n}"),
        kind: MessageKind::Message,
        envelopes: vec![Envelope {
            algorithm: Algorithm::Megolm,
            session_id: session.session_id(),
            ciphertext: session
                .encrypt(b"bench payload of about a sentence")
                .to_bytes(),
            recipients: recipients.to_vec(),
        }],
    }
}

/// Sends one message and waits until every member's socket has it.
async fn fan_out(s: &mut Setup, session: &mut vodozemac::megolm::GroupSession, n: u64) -> Duration {
    let start = Instant::now();
    let m = message(session, &s.recipients, n);
    s.chat.send(&s.owner, s.group, m).await.unwrap();
    for _ in 0..s.recipients.len() {
        s.delivered.recv().await.unwrap();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut s = rt.block_on(setup());
    let mut session =
        vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
    let mut n = 0_u64;
    // Percentiles first (criterion reports the mean throughput below).
    let mut times: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            n += 1;
            rt.block_on(fan_out(&mut s, &mut session, n))
        })
        .collect();
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "chat fan-out to {} sockets: p50 {:?}, p99 {:?}, max {:?} ({} messages)",
        s.recipients.len(),
        p(0.50),
        p(0.99),
        times[times.len() - 1],
        SAMPLES
    );
    let mut group = c.benchmark_group("chat");
    group.throughput(Throughput::Elements(s.recipients.len() as u64));
    group.sample_size(20);
    group.bench_function("fan_out_1000_member_group_over_websockets", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(fan_out(&mut s, &mut session, n))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
