//! Calls against the real `nova` binary, configured through its environment
//! (`TURN_*`, `CHAT_CALL_RING_TIMEOUT_SECS`): two signed-in users on live WebSockets; a
//! call rings, SDP offer/answer and ICE go socket to socket, it ends for both; TURN
//! credentials follow the configured URLs; an unanswered call is ended as missed by the
//! server's own sweep.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

#[allow(dead_code)]
mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nova_testkit::process::{Running, free_port, wait_for_http};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct User {
    id: String,
    token: String,
    socket: Socket,
}

async fn user(port: u16, name: &str) -> User {
    let name_owned = name.to_owned();
    let (id, token) = tokio::task::spawn_blocking(move || common::account(port, &name_owned))
        .await
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}/api/v1/chat/ws");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let auth = json!({ "type": "auth", "token": token, "device_id": format!("{name}-phone") });
    socket
        .send(Message::Text(auth.to_string().into()))
        .await
        .unwrap();
    let mut u = User { id, token, socket };
    assert_eq!(next_of(&mut u, "ready", 10).await["type"], "ready");
    u
}

/// The next frame of type `kind` within `secs` seconds (others skipped).
async fn next_of(u: &mut User, kind: &str, secs: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let frame = tokio::time::timeout_at(deadline, u.socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} frame within {secs} s"))
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == kind {
                return v;
            }
        }
    }
}

async fn call_status(u: &mut User, status: &str, secs: u64) -> Value {
    loop {
        let v = next_of(u, "call", secs).await;
        if v["call"]["status"] == status {
            return v;
        }
    }
}

async fn send(u: &mut User, frame: Value) {
    u.socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

async fn rest(
    port: u16,
    u: &User,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method.clone(), format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(&u.token);
    if method != reqwest::Method::GET {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_websockets_against_nova() {
    use reqwest::Method;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .env(
            "TURN_URLS",
            "turn:turn.example.com:3478,stun:stun.example.com:3478",
        )
        .env("TURN_SHARED_SECRET", "a test secret")
        .env("TURN_CREDENTIAL_TTL_SECS", "600")
        .env("CHAT_CALL_RING_TIMEOUT_SECS", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _nova = Running(child);
    tokio::task::spawn_blocking(move || wait_for_http(port, "/api/v1/ready", "nova"))
        .await
        .unwrap();

    let mut ann = user(port, "ann").await;
    let mut bob = user(port, "bob").await;
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
    let start = json!({ "conversation_id": conversation, "device_id": "ann-phone", "video": true });

    // Rings, is accepted, relays offer/answer/ICE, ends.
    let (status, call) = rest(
        port,
        &ann,
        Method::POST,
        "/api/v1/chat/calls",
        start.clone(),
    )
    .await;
    assert_eq!(status, 201, "{call}");
    let id = call["id"].as_str().unwrap().to_owned();
    call_status(&mut bob, "ringing", 10).await;
    let accept = json!({ "device_id": "bob-phone" });
    let path = format!("/api/v1/chat/calls/{id}/accept");
    assert_eq!(rest(port, &bob, Method::POST, &path, accept).await.0, 200);
    call_status(&mut ann, "active", 10).await;
    let signal = |to: &str, kind: &str, payload: &str| json!({ "type": "signal", "call_id": id, "to_user_id": to, "kind": kind, "payload": payload });
    let bob_id = bob.id.clone();
    let ann_id = ann.id.clone();
    send(&mut ann, signal(&bob_id, "offer", "v=0 offer")).await;
    let got = next_of(&mut bob, "signal", 10).await;
    assert_eq!(
        (&got["kind"], &got["payload"]),
        (&json!("offer"), &json!("v=0 offer"))
    );
    send(&mut bob, signal(&ann_id, "answer", "v=0 answer")).await;
    let got = next_of(&mut ann, "signal", 10).await;
    assert_eq!(
        (&got["kind"], &got["payload"]),
        (&json!("answer"), &json!("v=0 answer"))
    );
    send(
        &mut ann,
        signal(
            &bob_id,
            "ice",
            "candidate:1 1 udp 1 192.0.2.1 5000 typ host",
        ),
    )
    .await;
    let got = next_of(&mut bob, "signal", 10).await;
    assert_eq!(got["kind"], "ice");
    let path = format!("/api/v1/chat/calls/{id}/hangup");
    let (status, ended) = rest(port, &bob, Method::POST, &path, Value::Null).await;
    assert_eq!((status, &ended["end_reason"]), (200, &json!("completed")));
    call_status(&mut ann, "ended", 10).await;

    // TURN credentials from the environment's settings.
    let (status, turn) = rest(port, &ann, Method::GET, "/api/v1/chat/turn", Value::Null).await;
    assert_eq!(status, 200, "{turn}");
    assert_eq!(turn["ttl_secs"], 600);
    assert_eq!(
        turn["urls"],
        json!(["turn:turn.example.com:3478", "stun:stun.example.com:3478"])
    );
    assert!(
        turn["username"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{ann_id}"))
    );

    // Nobody answers: the server's sweep ends it as missed after 5 s.
    let (status, call) = rest(port, &ann, Method::POST, "/api/v1/chat/calls", start).await;
    assert_eq!(status, 201, "{call}");
    call_status(&mut bob, "ringing", 10).await;
    let missed = call_status(&mut bob, "ended", 15).await;
    assert_eq!(missed["call"]["end_reason"], "missed");
}
