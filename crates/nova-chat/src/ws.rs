//! The live connection: a WebSocket at `/api/v1/chat/ws`, one per device.
//!
//! 1. The client's first frame authenticates (never the URL):
//!    `{"type":"auth","token":"…","device_id":"…","cursor":N?}`; the server answers
//!    `{"type":"ready","cursor":N}` — the position it resumes from (the given cursor, else
//!    the device's last acknowledged one).
//! 2. The server sends every queued envelope after the cursor, then live events, as
//!    [`LiveEvent`] JSON (`delivery`, `typing`, `receipt`, `members`). Deliveries carry
//!    the device's contiguous `seq`; a gap (a lagging pub/sub, another replica) is filled
//!    from the store, and a `seq` already sent is skipped: no loss, no duplicates.
//! 3. The client sends `{"type":"ack","up_to":N}` (entries leave its queue),
//!    `{"type":"typing","conversation_id":"…"}` and `{"type":"ping"}`; during a call,
//!    `{"type":"signal","call_id","to_user_id","kind":"offer"|"answer"|"ice","payload"}`
//!    (relayed to the device the other participant joined with, as a `signal` event);
//!    while sharing its location, `{"type":"location","share_id","envelopes":[…]}`
//!    (ciphertext relayed to the recipients' devices as `location` events, never stored).
//!    Calls themselves (`call` events: ringing, answered, ended) and shares
//!    (`location_share`) arrive as events too. A refused frame is answered
//!    `{"type":"error","field","message","status"}` (`status` as the REST answer would be:
//!    404, 409, 413, 429, ...).
//!
//! Limits ([`LiveOptions`]): a bounded queue per connection (a client too slow to drain
//! it is closed with 1013 and resumes from its cursor), heartbeats and an idle timeout,
//! one connection per device (a newer one replaces it, close code 4000), a per-user
//! connection cap (1008), and a frame size cap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::StreamExt;
use nova_auth::Authenticator;
use nova_core::{Principal, Result, UserId};
use nova_e2ee::DeviceId;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::api::ChatApi;
use crate::model::{
    CallId, ConversationId, Envelope, LiveEvent, LocationShareId, LocationUpdate, MAX_INBOX_PAGE,
    SignalKind,
};

/// Limits of live connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// Events queued per connection before it is closed as too slow.
    pub queue: usize,
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A connection silent (no frame, no pong) this long is closed.
    pub idle_timeout: Duration,
    /// How long the client has to authenticate.
    pub auth_timeout: Duration,
    /// Devices of one user connected at once.
    pub max_connections_per_user: usize,
    /// Largest frame or message a client may send.
    pub max_frame_bytes: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            queue: 1024,
            heartbeat: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            auth_timeout: Duration::from_secs(10),
            max_connections_per_user: 10,
            max_frame_bytes: 16 * 1024,
        }
    }
}

/// Close codes the server uses.
pub mod close {
    /// A newer connection of the same device took over.
    pub const REPLACED: u16 = 4000;
    /// Authentication failed or did not come in time.
    pub const UNAUTHENTICATED: u16 = 4001;
    /// Too many connections of this user (policy violation).
    pub const TOO_MANY: u16 = 1008;
    /// The client did not keep up (try again later): resume from the cursor.
    pub const TOO_SLOW: u16 = 1013;
    /// Idle for too long.
    pub const IDLE: u16 = 1001;
    /// A frame the protocol does not allow.
    pub const BAD_FRAME: u16 = 1003;
}

/// One user's connected devices: connection id and its "you were replaced" signal.
type Devices = HashMap<DeviceId, (u64, Arc<Notify>)>;

/// The live-connection hub of one process: options and who is connected.
pub struct Live {
    api: Arc<dyn ChatApi>,
    auth: Arc<dyn Authenticator>,
    options: LiveOptions,
    next: AtomicU64,
    connected: Mutex<HashMap<UserId, Devices>>,
}

impl Live {
    /// A hub over `api`, authenticating with `auth`.
    pub fn new(api: Arc<dyn ChatApi>, auth: Arc<dyn Authenticator>, options: LiveOptions) -> Self {
        Self {
            api,
            auth,
            options,
            next: AtomicU64::new(1),
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a connection of `device`; a previous one of the device is told to go.
    /// `None` when the user is at the connection cap.
    fn register(&self, user: UserId, device: &DeviceId) -> Option<(u64, Arc<Notify>)> {
        let mut connected = self.connected.lock().unwrap_or_else(|p| p.into_inner());
        let devices = connected.entry(user).or_default();
        if !devices.contains_key(device) && devices.len() >= self.options.max_connections_per_user {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let notify = Arc::new(Notify::new());
        if let Some((_, old)) = devices.insert(device.clone(), (id, notify.clone())) {
            old.notify_one();
        }
        Some((id, notify))
    }

    fn unregister(&self, user: UserId, device: &DeviceId, id: u64) {
        let mut connected = self.connected.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(devices) = connected.get_mut(&user) {
            if devices
                .get(device)
                .is_some_and(|(current, _)| *current == id)
            {
                devices.remove(device);
            }
            if devices.is_empty() {
                connected.remove(&user);
            }
        }
    }

    /// How many connections are open in this process.
    pub fn connections(&self) -> usize {
        let connected = self.connected.lock().unwrap_or_else(|p| p.into_inner());
        connected.values().map(HashMap::len).sum()
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Auth {
        token: String,
        device_id: String,
        #[serde(default)]
        cursor: Option<i64>,
    },
    Ack {
        up_to: i64,
    },
    Typing {
        conversation_id: String,
    },
    Signal {
        call_id: String,
        to_user_id: String,
        kind: String,
        payload: String,
    },
    Location {
        share_id: String,
        envelopes: Vec<Envelope>,
    },
    Ping,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    Ready {
        cursor: i64,
    },
    Pong,
    Error {
        field: Option<&'a str>,
        message: &'a str,
    },
}

/// `GET /api/v1/chat/ws`.
pub(crate) async fn upgrade(State(live): State<Arc<Live>>, ws: WebSocketUpgrade) -> Response {
    let max = live.options.max_frame_bytes;
    ws.max_frame_size(max)
        .max_message_size(max)
        .on_upgrade(move |socket| async move { serve(live, socket).await })
}

async fn send_json(socket: &mut WebSocket, value: &impl Serialize) -> bool {
    match serde_json::to_string(value) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn close_with(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Reads the auth frame: the principal, device and requested cursor.
async fn authenticate(
    live: &Live,
    socket: &mut WebSocket,
) -> std::result::Result<(Principal, DeviceId, Option<i64>), &'static str> {
    let first = tokio::time::timeout(live.options.auth_timeout, socket.recv())
        .await
        .map_err(|_| "authenticate first")?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err("the first frame must be a text auth frame");
    };
    let Ok(ClientFrame::Auth {
        token,
        device_id,
        cursor,
    }) = serde_json::from_str::<ClientFrame>(text.as_str())
    else {
        return Err("the first frame must be {\"type\":\"auth\",...}");
    };
    let principal = live
        .auth
        .authenticate(&token)
        .await
        .map_err(|_| "invalid token")?;
    let device = DeviceId::new(device_id).map_err(|_| "invalid device_id")?;
    Ok((principal, device, cursor))
}

async fn serve(live: Arc<Live>, mut socket: WebSocket) {
    let (principal, device, cursor) = match authenticate(&live, &mut socket).await {
        Ok(ok) => ok,
        Err(reason) => return close_with(socket, close::UNAUTHENTICATED, reason).await,
    };
    let user = principal.user_id;
    let Some((id, replaced)) = live.register(user, &device) else {
        return close_with(socket, close::TOO_MANY, "too many connections").await;
    };
    let outcome = run(&live, &mut socket, &principal, &device, cursor, &replaced).await;
    live.unregister(user, &device, id);
    let (code, reason) = match outcome {
        Ok(end) => end,
        Err(e) => {
            tracing::warn!(error = %e, "chat: live connection failed");
            (1011, "server error")
        }
    };
    if code != 0 {
        close_with(socket, code, reason).await;
    }
}

/// Sends `device`'s queued envelopes after `*last`, advancing it. `false` when the
/// socket is gone.
async fn catch_up(
    api: &dyn ChatApi,
    socket: &mut WebSocket,
    principal: &Principal,
    device: &DeviceId,
    last: &mut i64,
) -> Result<bool> {
    loop {
        let batch = api.inbox(principal, device, *last, MAX_INBOX_PAGE).await?;
        let full = batch.len() >= MAX_INBOX_PAGE as usize;
        for delivery in batch {
            let seq = delivery.seq;
            if !send_json(socket, &LiveEvent::Delivery(delivery)).await {
                return Ok(false);
            }
            *last = seq;
        }
        if !full {
            return Ok(true);
        }
    }
}

/// The connection's life; answers the close code and reason (0: the client left).
async fn run(
    live: &Live,
    socket: &mut WebSocket,
    principal: &Principal,
    device: &DeviceId,
    cursor: Option<i64>,
    replaced: &Notify,
) -> Result<(u16, &'static str)> {
    let api = live.api.as_ref();
    // Subscribe before reading the backlog, so nothing falls between the two.
    let mut events = api.subscribe(principal, device).await?;
    let (tx, mut rx) = mpsc::channel::<LiveEvent>(live.options.queue.max(1));
    let forward = tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if tx.try_send(event).is_err() {
                // Full (or closed): the connection ends; the client resumes from its cursor.
                return;
            }
        }
    });
    let _abort = AbortOnDrop(forward);
    let mut last = match cursor {
        Some(c) if c >= 0 => c,
        Some(_) => return Ok((close::BAD_FRAME, "cursor must not be negative")),
        None => api.acknowledged(principal, device).await?,
    };
    if !send_json(socket, &ServerFrame::Ready { cursor: last }).await {
        return Ok((0, ""));
    }
    if !catch_up(api, socket, principal, device, &mut last).await? {
        return Ok((0, ""));
    }
    let mut heartbeat = tokio::time::interval(live.options.heartbeat);
    heartbeat.tick().await;
    let mut seen = Instant::now();
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else {
                    return Ok((close::TOO_SLOW, "too slow: resume from your cursor"));
                };
                match event {
                    LiveEvent::Delivery(d) if d.seq <= last => {}
                    LiveEvent::Delivery(d) if d.seq == last + 1 => {
                        let seq = d.seq;
                        if !send_json(socket, &LiveEvent::Delivery(d)).await {
                            return Ok((0, ""));
                        }
                        last = seq;
                    }
                    LiveEvent::Delivery(_) => {
                        if !catch_up(api, socket, principal, device, &mut last).await? {
                            return Ok((0, ""));
                        }
                    }
                    other => {
                        if !send_json(socket, &other).await {
                            return Ok((0, ""));
                        }
                    }
                }
            }
            frame = socket.recv() => {
                seen = Instant::now();
                match frame {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok((0, "")),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Binary(_))) => {
                        return Ok((close::BAD_FRAME, "text frames only"));
                    }
                    Some(Ok(Message::Text(text))) => {
                        if let Some(end) = handle(api, socket, principal, device, text.as_str()).await {
                            return Ok(end);
                        }
                    }
                }
            }
            _ = heartbeat.tick() => {
                if seen.elapsed() > live.options.idle_timeout {
                    return Ok((close::IDLE, "idle"));
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return Ok((0, ""));
                }
            }
            _ = replaced.notified() => {
                return Ok((close::REPLACED, "replaced by a newer connection of this device"));
            }
        }
    }
}

/// Handles one client frame; `Some` ends the connection.
async fn handle(
    api: &dyn ChatApi,
    socket: &mut WebSocket,
    principal: &Principal,
    device: &DeviceId,
    text: &str,
) -> Option<(u16, &'static str)> {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(_) => {
            let error = ServerFrame::Error {
                field: Some("type"),
                message: "unknown frame",
            };
            return (!send_json(socket, &error).await).then_some((0, ""));
        }
    };
    let outcome = match frame {
        ClientFrame::Auth { .. } => return Some((close::BAD_FRAME, "already authenticated")),
        ClientFrame::Ping => {
            return (!send_json(socket, &ServerFrame::Pong).await).then_some((0, ""));
        }
        ClientFrame::Ack { up_to } => api.acknowledge(principal, device, up_to).await.map(|_| ()),
        ClientFrame::Typing { conversation_id } => {
            match ConversationId::parse_field(&conversation_id, "conversation_id") {
                Ok(id) => api.typing(principal, id).await,
                Err(e) => Err(e),
            }
        }
        ClientFrame::Signal {
            call_id,
            to_user_id,
            kind,
            payload,
        } => match (
            CallId::parse_field(&call_id, "call_id"),
            UserId::parse_field(&to_user_id, "to_user_id"),
            SignalKind::parse(&kind),
        ) {
            (Ok(id), Ok(to), Ok(kind)) => api.signal(principal, id, to, kind, payload).await,
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        },
        ClientFrame::Location {
            share_id,
            envelopes,
        } => match LocationShareId::parse_field(&share_id, "share_id") {
            Ok(id) => {
                let update = LocationUpdate {
                    sender_device: device.clone(),
                    envelopes,
                };
                api.update_location(principal, id, update).await
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = outcome {
        let body = json!({
            "type": "error",
            "field": e.field(),
            "message": e.message(),
            "status": e.kind().http_status(),
        });
        if !send_json(socket, &body).await {
            return Some((0, ""));
        }
    }
    None
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
