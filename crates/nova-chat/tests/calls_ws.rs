//! A call end to end over the real HTTP server and WebSocket (`nova_chat::http::router`
//! on 127.0.0.1, SQLite): two clients connect, Ann rings Bob over REST, Bob's socket
//! rings, he accepts, SDP offer/answer and ICE candidates go socket to socket unchanged,
//! an oversize payload is refused, TURN credentials are handed out, and the call ends
//! for both when Ann hangs up.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use nova_auth::Authenticator;
use nova_chat::store::SqlChatStore;
use nova_chat::{CallSettings, ChatApi, ChatRelations, ChatService, Reach};
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(Principal::user(id, SessionId::from(id.as_uuid())))
    }
}

/// Everyone exists and may talk (blocks are tested in `calls.rs`).
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

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    id: UserId,
    token: String,
    socket: Socket,
}

async fn connect(port: u16, id: UserId, device: &str) -> Client {
    let url = format!("ws://127.0.0.1:{port}/api/v1/chat/ws");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let token = format!("t-{id}");
    let auth = json!({ "type": "auth", "token": token, "device_id": device });
    socket
        .send(Message::Text(auth.to_string().into()))
        .await
        .unwrap();
    let ready = next_json(&mut socket).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    Client { id, token, socket }
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The next frame of `kind` (others skipped).
async fn next_of(c: &mut Client, kind: &str) -> Value {
    loop {
        let v = next_json(&mut c.socket).await;
        if v["type"] == kind {
            return v;
        }
    }
}

/// The next `call` frame whose call is `status`.
async fn call_frame(c: &mut Client, status: &str) -> Value {
    loop {
        let v = next_of(c, "call").await;
        if v["call"]["status"] == status {
            return v;
        }
    }
}

async fn send(c: &mut Client, frame: Value) {
    c.socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

async fn rest(
    port: u16,
    c: &Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method.clone(), format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(&c.token);
    if method != reqwest::Method::GET {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rings_relays_offer_answer_and_ice_and_ends_over_websockets() {
    use reqwest::Method;
    let backend = nova_testkit::sqlite().await;
    let settings = CallSettings {
        turn_secret: Some("s3cret".into()),
        turn_urls: vec!["turn:turn.example.com:3478".into()],
        ..CallSettings::default()
    };
    let chat = ChatService::new(
        Arc::new(SqlChatStore::new(backend.db().clone())),
        Arc::new(Open),
    )
    .with_calls(settings);
    let api: Arc<dyn ChatApi> = Arc::new(chat);
    let app = nova_chat::http::router(api, Arc::new(TestAuth));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut ann = connect(port, UserId::new(), "ann-phone").await;
    let mut bob = connect(port, UserId::new(), "bob-phone").await;
    let (status, conv) = rest(
        port,
        &ann,
        Method::POST,
        "/api/v1/chat/conversations",
        json!({ "user_id": bob.id }),
    )
    .await;
    assert_eq!(status, 201, "{conv}");
    let conversation = conv["id"].as_str().unwrap().to_owned();

    // Bad input names the field; then Ann rings.
    let (status, err) = rest(
        port,
        &ann,
        Method::POST,
        "/api/v1/chat/calls",
        json!({ "conversation_id": "nope", "device_id": "ann-phone" }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("conversation_id"), "{err}");
    let (status, call) = rest(
        port,
        &ann,
        Method::POST,
        "/api/v1/chat/calls",
        json!({ "conversation_id": conversation, "device_id": "ann-phone", "video": true }),
    )
    .await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(call["status"], "ringing");
    let call_id = call["id"].as_str().unwrap().to_owned();

    // Bob's socket rings; he accepts over REST; Ann's socket hears it.
    let ringing = call_frame(&mut bob, "ringing").await;
    assert_eq!(ringing["call"]["id"], call_id.as_str());
    let (status, accepted) = rest(
        port,
        &bob,
        Method::POST,
        &format!("/api/v1/chat/calls/{call_id}/accept"),
        json!({ "device_id": "bob-phone" }),
    )
    .await;
    assert_eq!((status, &accepted["status"]), (200, &json!("active")));
    call_frame(&mut ann, "active").await;

    // Offer, answer and ICE, socket to socket, unchanged.
    let offer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    let signal = |to: UserId, kind: &str, payload: &str| {
        json!({
            "type": "signal",
            "call_id": call_id,
            "to_user_id": to,
            "kind": kind,
            "payload": payload,
        })
    };
    send(&mut ann, signal(bob.id, "offer", offer)).await;
    let got = next_of(&mut bob, "signal").await;
    assert_eq!(
        (&got["kind"], &got["payload"], &got["call_id"]),
        (&json!("offer"), &json!(offer), &json!(call_id))
    );
    assert_eq!(got["from"]["user_id"], json!(ann.id));
    assert_eq!(got["from"]["device_id"], "ann-phone");
    send(&mut bob, signal(ann.id, "answer", "v=0 answer")).await;
    let got = next_of(&mut ann, "signal").await;
    assert_eq!(
        (&got["kind"], &got["payload"]),
        (&json!("answer"), &json!("v=0 answer"))
    );
    for i in 0..3 {
        let candidate = format!("candidate:{i} 1 udp 2122260223 192.0.2.{i} 5{i}000 typ host");
        send(&mut ann, signal(bob.id, "ice", &candidate)).await;
        send(&mut bob, signal(ann.id, "ice", &candidate)).await;
        for c in [&mut ann, &mut bob] {
            let got = next_of(c, "signal").await;
            assert_eq!(
                (&got["kind"], &got["payload"]),
                (&json!("ice"), &json!(candidate))
            );
        }
    }
    // Too big for the relay (still within the frame cap): 413 on the socket.
    send(&mut ann, signal(bob.id, "offer", &"x".repeat(13 * 1024))).await;
    let refused = next_of(&mut ann, "error").await;
    assert_eq!(refused["status"], 413, "{refused}");
    assert_eq!(refused["field"], Value::Null);
    // A bad kind names the field.
    send(&mut ann, signal(bob.id, "sdp", "x")).await;
    let refused = next_of(&mut ann, "error").await;
    assert_eq!(
        (&refused["status"], &refused["field"]),
        (&json!(400), &json!("kind"))
    );

    // TURN credentials in RTCIceServer shape.
    let (status, turn) = rest(port, &bob, Method::GET, "/api/v1/chat/turn", Value::Null).await;
    assert_eq!(status, 200, "{turn}");
    assert!(
        turn["username"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{}", bob.id))
    );
    assert_eq!(turn["urls"], json!(["turn:turn.example.com:3478"]));

    // Ann hangs up: both sockets hear the end; signaling is refused afterwards.
    let (status, ended) = rest(
        port,
        &ann,
        Method::POST,
        &format!("/api/v1/chat/calls/{call_id}/hangup"),
        Value::Null,
    )
    .await;
    assert_eq!((status, &ended["status"]), (200, &json!("ended")));
    assert_eq!(ended["end_reason"], "completed");
    let over = call_frame(&mut bob, "ended").await;
    assert_eq!(over["call"]["end_reason"], "completed");
    send(&mut bob, signal(ann.id, "ice", "late")).await;
    let refused = next_of(&mut bob, "error").await;
    assert_eq!(refused["status"], 409, "{refused}");
    // A stranger sees nothing of the call.
    let eve = connect(port, UserId::new(), "eve-phone").await;
    let (status, _) = rest(
        port,
        &eve,
        Method::GET,
        &format!("/api/v1/chat/calls/{call_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}
