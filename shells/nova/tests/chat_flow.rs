//! End-to-end encrypted chat against the real `nova` binary: two `nova-e2ee-client`
//! devices publish keys to the key directory over REST, open live WebSockets, establish
//! Olm sessions and exchange messages they decrypt; a group exchanges Megolm messages
//! and a removed member gets nothing after removal; a reconnect resumes from the cursor
//! with no loss and no duplicates; blocks, "nobody", size and send limits hold.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

#[allow(dead_code)]
mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use nova_core::{Error, Principal, Result, SessionId, UserId};
use nova_e2ee::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceList, EncryptedMessage, KeyCounts, KeyDirectory,
    KeyUpload, OutgoingMessage,
};
use nova_e2ee_client::Client;
use nova_testkit::process::{Running, free_port, wait_for_http};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The key directory over nova's REST routes, as one signed-in user.
struct RestDirectory {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl RestDirectory {
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(Error::unavailable)?;
        let status = response.status();
        let text = response.text().await.map_err(Error::unavailable)?;
        if !status.is_success() {
            let kind = match status.as_u16() {
                403 => nova_core::ErrorKind::PermissionDenied,
                404 => nova_core::ErrorKind::NotFound,
                _ => nova_core::ErrorKind::Internal,
            };
            return Err(Error::new(kind, format!("{status}: {text}")));
        }
        serde_json::from_str(if text.is_empty() { "null" } else { &text }).map_err(Error::internal)
    }
}

#[async_trait]
impl KeyDirectory for RestDirectory {
    async fn upload_keys(
        &self,
        _: &Principal,
        device: &DeviceId,
        upload: KeyUpload,
    ) -> Result<KeyCounts> {
        let body = serde_json::to_value(upload).unwrap();
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/e2ee/devices/{device}/keys"),
            Some(body),
        )
        .await
    }
    async fn key_counts(&self, _: &Principal, device: &DeviceId) -> Result<KeyCounts> {
        self.call(
            reqwest::Method::GET,
            &format!("/api/v1/e2ee/devices/{device}/keys"),
            None,
        )
        .await
    }
    async fn query_devices(&self, _: &Principal, users: &[UserId]) -> Result<Vec<DeviceList>> {
        self.call(
            reqwest::Method::POST,
            "/api/v1/e2ee/devices/query",
            Some(json!({ "user_ids": users })),
        )
        .await
    }
    async fn device_list_versions(
        &self,
        _: &Principal,
        users: &[UserId],
    ) -> Result<Vec<(UserId, i64)>> {
        self.call(
            reqwest::Method::POST,
            "/api/v1/e2ee/devices/versions",
            Some(json!({ "user_ids": users })),
        )
        .await
    }
    async fn claim_keys(
        &self,
        _: &Principal,
        device: &DeviceId,
        targets: &[DeviceAddress],
    ) -> Result<Vec<ClaimedKey>> {
        let body = json!({ "targets": targets });
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/e2ee/devices/{device}/claim"),
            Some(body),
        )
        .await
    }
    async fn remove_device(&self, _: &Principal, device: &DeviceId) -> Result<()> {
        self.call::<Value>(
            reqwest::Method::DELETE,
            &format!("/api/v1/e2ee/devices/{device}"),
            None,
        )
        .await
        .map(|_| ())
    }
    async fn send_message(&self, _: &Principal, message: OutgoingMessage) -> Result<i64> {
        let v: Value = self
            .call(
                reqwest::Method::POST,
                "/api/v1/e2ee/messages",
                Some(serde_json::to_value(message).unwrap()),
            )
            .await?;
        Ok(v["id"].as_i64().unwrap())
    }
    async fn inbox(
        &self,
        _: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>> {
        let path = format!("/api/v1/e2ee/devices/{device}/inbox?after={after}&limit={limit}");
        self.call(reqwest::Method::GET, &path, None).await
    }
    async fn acknowledge(&self, _: &Principal, device: &DeviceId, up_to: i64) -> Result<u64> {
        let v: Value = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/e2ee/devices/{device}/ack"),
                Some(json!({ "up_to": up_to })),
            )
            .await?;
        Ok(v["acknowledged"].as_u64().unwrap())
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One person with one device: REST token, E2EE client, live socket.
struct Person {
    id: UserId,
    token: String,
    client: Client,
    socket: Option<Socket>,
    /// The last sequence received (and acknowledged).
    seq: i64,
}

struct Nova {
    port: u16,
    http: reqwest::Client,
}

impl Nova {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn rest(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base()))
            .bearer_auth(token);
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn person(&self, name: &str) -> Person {
        let port = self.port;
        let name_owned = name.to_owned();
        let (id, token) = tokio::task::spawn_blocking(move || common::account(port, &name_owned))
            .await
            .unwrap();
        let id = UserId::parse_field(&id, "id").unwrap();
        let directory = Arc::new(RestDirectory {
            http: self.http.clone(),
            base: self.base(),
            token: token.clone(),
        });
        let principal = Principal::user(id, SessionId::new());
        let client = Client::register(
            directory,
            principal,
            DeviceId::new(format!("{name}-phone")).unwrap(),
        )
        .await
        .unwrap();
        Person {
            id,
            token,
            client,
            socket: None,
            seq: 0,
        }
    }

    async fn connect(&self, p: &mut Person, cursor: Option<i64>) {
        let url = format!("ws://127.0.0.1:{}/api/v1/chat/ws", self.port);
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut auth = json!({
            "type": "auth",
            "token": p.token,
            "device_id": p.client.address().device_id.as_str(),
        });
        if let Some(c) = cursor {
            auth["cursor"] = json!(c);
        }
        socket
            .send(Message::Text(auth.to_string().into()))
            .await
            .unwrap();
        let ready = next_json(&mut socket).await;
        assert_eq!(ready["type"], "ready", "{ready}");
        p.socket = Some(socket);
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Receives until `count` application messages were decrypted; acknowledges each
/// envelope over the socket. Sequences must arrive contiguous, each once.
async fn receive(p: &mut Person, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < count {
        let frame = next_json(p.socket.as_mut().unwrap()).await;
        if frame["type"] != "delivery" {
            continue;
        }
        let seq = frame["seq"].as_i64().unwrap();
        assert_eq!(
            seq,
            p.seq + 1,
            "contiguous, no loss, no duplicates: {frame}"
        );
        p.seq = seq;
        let delivery: nova_chat::Delivery = serde_json::from_value(frame).unwrap();
        if let Some(m) = p.client.receive(&delivery.encrypted()).await.unwrap() {
            out.push(String::from_utf8(m.plaintext).unwrap());
        }
        let ack = json!({ "type": "ack", "up_to": seq }).to_string();
        p.socket
            .as_mut()
            .unwrap()
            .send(Message::Text(ack.into()))
            .await
            .unwrap();
    }
    out
}

/// Nothing more arrives within a short while (typing and receipts aside).
async fn quiet(p: &mut Person) {
    let socket = p.socket.as_mut().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(frame) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Some(Ok(Message::Text(text))) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(v["type"], "delivery", "unexpected delivery: {v}");
        }
    }
}

fn envelopes(out: Vec<OutgoingMessage>) -> Value {
    let envelopes: Vec<nova_chat::Envelope> = out.into_iter().map(Into::into).collect();
    serde_json::to_value(envelopes).unwrap()
}

async fn send(
    nova: &Nova,
    p: &mut Person,
    conversation: &str,
    key: &str,
    out: Vec<OutgoingMessage>,
) -> (u16, Value) {
    let body = json!({
        "sender_device": p.client.address().device_id.as_str(),
        "idempotency_key": key,
        "envelopes": envelopes(out),
    });
    let path = format!("/api/v1/chat/conversations/{conversation}/messages");
    nova.rest(&p.token, reqwest::Method::POST, &path, body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_chat_over_websockets_against_nova() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _nova = Running(child);
    tokio::task::spawn_blocking(move || wait_for_http(port, "/api/v1/ready", "nova"))
        .await
        .unwrap();
    let nova = Nova {
        port,
        http: reqwest::Client::new(),
    };
    use reqwest::Method;

    // 1:1 over Olm, live.
    let mut ann = nova.person("ann").await;
    let mut bob = nova.person("bob").await;
    nova.connect(&mut ann, None).await;
    nova.connect(&mut bob, None).await;
    let (status, conv) = nova
        .rest(
            &ann.token,
            Method::POST,
            "/api/v1/chat/conversations",
            json!({ "user_id": bob.id }),
        )
        .await;
    assert_eq!(status, 201, "{conv}");
    let direct = conv["id"].as_str().unwrap().to_owned();
    let out = ann
        .client
        .encrypt_for_user(bob.id, b"plaintext one from ann")
        .await
        .unwrap();
    let (status, sent) = send(&nova, &mut ann, &direct, "a-1", out.clone()).await;
    assert_eq!(status, 201, "{sent}");
    // A retry of the same key stores nothing new.
    let (status, again) = send(&nova, &mut ann, &direct, "a-1", out).await;
    assert_eq!((status, &again["message_id"]), (200, &sent["message_id"]));
    assert_eq!(receive(&mut bob, 1).await, ["plaintext one from ann"]);
    let out = bob
        .client
        .encrypt_for_user(ann.id, b"plaintext reply from bob")
        .await
        .unwrap();
    assert_eq!(send(&nova, &mut bob, &direct, "b-1", out).await.0, 201);
    assert_eq!(receive(&mut ann, 1).await, ["plaintext reply from bob"]);
    quiet(&mut bob).await;

    // Reconnect: bob goes away, ann sends three, bob resumes from his cursor.
    bob.socket.take().unwrap().close(None).await.unwrap();
    for i in 0..3 {
        let text = format!("offline message {i}");
        let out = ann
            .client
            .encrypt_for_user(bob.id, text.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            send(&nova, &mut ann, &direct, &format!("off-{i}"), out)
                .await
                .0,
            201
        );
    }
    nova.connect(&mut bob, None).await;
    assert_eq!(
        receive(&mut bob, 3).await,
        [
            "offline message 0",
            "offline message 1",
            "offline message 2"
        ]
    );
    quiet(&mut bob).await;

    // A group of four over Megolm; a removed member receives nothing afterwards.
    let mut cat = nova.person("cat").await;
    let mut dan = nova.person("dan").await;
    nova.connect(&mut cat, None).await;
    nova.connect(&mut dan, None).await;
    let ids = json!([bob.id, cat.id, dan.id]);
    let (status, group) = nova
        .rest(
            &ann.token,
            Method::POST,
            "/api/v1/chat/conversations",
            json!({ "title": "four", "member_ids": ids }),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let others = [bob.id, cat.id, dan.id];
    let out = ann
        .client
        .encrypt_for_group(&gid, &others, b"megolm hello all")
        .await
        .unwrap();
    assert_eq!(send(&nova, &mut ann, &gid, "g-1", out).await.0, 201);
    for p in [&mut bob, &mut cat, &mut dan] {
        assert_eq!(receive(p, 1).await, ["megolm hello all"]);
    }
    let out = cat
        .client
        .encrypt_for_group(&gid, &[ann.id, bob.id, dan.id], b"megolm from cat")
        .await
        .unwrap();
    assert_eq!(send(&nova, &mut cat, &gid, "c-1", out).await.0, 201);
    for p in [&mut ann, &mut bob, &mut dan] {
        assert_eq!(receive(p, 1).await, ["megolm from cat"]);
    }
    let (status, _) = nova
        .rest(
            &ann.token,
            Method::DELETE,
            &format!("/api/v1/chat/conversations/{gid}/members/{}", dan.id),
            Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    let (_, members) = nova
        .rest(
            &ann.token,
            Method::GET,
            &format!("/api/v1/chat/conversations/{gid}/members"),
            Value::Null,
        )
        .await;
    let remaining: Vec<UserId> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| UserId::parse_field(m["user_id"].as_str().unwrap(), "user_id").unwrap())
        .filter(|u| *u != ann.id)
        .collect();
    assert_eq!(remaining.len(), 2);
    let out = ann
        .client
        .encrypt_for_group(&gid, &remaining, b"after dan left")
        .await
        .unwrap();
    assert_eq!(send(&nova, &mut ann, &gid, "g-2", out).await.0, 201);
    for p in [&mut bob, &mut cat] {
        assert_eq!(receive(p, 1).await, ["after dan left"]);
    }
    quiet(&mut dan).await;

    // Blocks answer like a missing user; "nobody" is enforced.
    let (status, _) = nova
        .rest(
            &dan.token,
            Method::POST,
            &format!("/api/v1/social/blocks/{}", ann.id),
            Value::Null,
        )
        .await;
    assert!(status == 200 || status == 204, "{status}");
    let blocked = nova
        .rest(
            &ann.token,
            Method::POST,
            "/api/v1/chat/conversations",
            json!({ "user_id": dan.id }),
        )
        .await;
    let missing = nova
        .rest(
            &ann.token,
            Method::POST,
            "/api/v1/chat/conversations",
            json!({ "user_id": UserId::new() }),
        )
        .await;
    assert_eq!(blocked.0, 404);
    assert_eq!(blocked, missing);
    let (status, _) = nova
        .rest(
            &cat.token,
            Method::PUT,
            "/api/v1/chat/settings/dm",
            json!({ "allow": "nobody" }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = nova
        .rest(
            &bob.token,
            Method::POST,
            "/api/v1/chat/conversations",
            json!({ "user_id": cat.id }),
        )
        .await;
    assert_eq!(status, 404);

    // Oversize: 413 naming the field, nothing stored; then a flood: 429.
    let mut big = ann
        .client
        .encrypt_for_user(bob.id, &vec![b'x'; 70 * 1024])
        .await
        .unwrap();
    let (status, body) = send(&nova, &mut ann, &direct, "big", std::mem::take(&mut big)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.to_string().contains("ciphertext"), "{body}");
    let (_, history) = nova
        .rest(
            &bob.token,
            Method::GET,
            &format!("/api/v1/chat/conversations/{direct}/messages?device_id=bob-phone"),
            Value::Null,
        )
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 5, "{history}");
    let mut limited = false;
    for i in 0..80 {
        let out = ann.client.encrypt_for_user(bob.id, b"flood").await.unwrap();
        let (status, body) = send(&nova, &mut ann, &direct, &format!("flood-{i}"), out).await;
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 201, "{body}");
    }
    assert!(limited, "the send bucket holds");
}
