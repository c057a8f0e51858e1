//! The limits of `/graphql/ws`, before any GraphQL work: the POST body cap on every
//! message (enforced by the WebSocket codec, before a document is parsed), connection
//! caps per client address and per user, and a connection that sends anything before
//! `connection_init` has been answered is closed (4400). A connection whose session
//! ends (logout, password change...) is closed (4401) within
//! [`SESSION_CHECK_INTERVAL`], with every subscription on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocket as GqlWebSocket, WsMessage};
use async_graphql::{Data, Executor};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use nova_auth::Authenticator;
use nova_core::SessionId;
use tokio::sync::{mpsc, oneshot};

/// Close code for a message sent before `connection_init` completed (graphql-ws's
/// "bad request").
pub(crate) const CLOSE_EARLY_MESSAGE: u16 = 4400;

/// Close code for a connection whose session has ended (graphql-ws's "unauthorized").
pub const CLOSE_SESSION_ENDED: u16 = 4401;

/// How often an open connection asks whether its session has ended: an in-memory
/// lookup in every verifier (the revocation set, or identity's own session row).
pub const SESSION_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What a connection needs to notice that its session ended: the session, once
/// `connection_init` has authenticated one, and who to ask.
pub(crate) struct SessionWatch {
    pub(crate) session: oneshot::Receiver<SessionId>,
    pub(crate) auth: Arc<dyn Authenticator>,
}

/// Open connections per key (a client address bucket or a user), capped.
#[derive(Default)]
pub(crate) struct ConnectionCounts {
    open: Mutex<HashMap<String, usize>>,
}

impl ConnectionCounts {
    /// A slot for `key` if it has fewer than `max` open; released when dropped.
    pub(crate) fn acquire(self: &Arc<Self>, key: String, max: usize) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: self.clone(),
            key,
        })
    }
}

/// One open connection counted against a key.
pub(crate) struct Slot {
    counts: Arc<ConnectionCounts>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Whether a client message is `connection_init` (both protocols name it so).
fn is_connection_init(data: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(borrow, rename = "type")]
        kind: &'a str,
    }
    serde_json::from_slice::<Kind<'_>>(data).is_ok_and(|k| k.kind == "connection_init")
}

/// Serves one upgraded connection with `executor`. `on_init` answers `connection_init`
/// (its error closes the connection); the socket is read eagerly, so a message that
/// arrives while `on_init` runs (or before `connection_init`) closes it.
pub(crate) async fn serve<E, F, Fut>(
    socket: WebSocket,
    executor: E,
    protocol: async_graphql::http::WebSocketProtocols,
    on_init: F,
    watch: SessionWatch,
) where
    E: Executor,
    F: FnOnce(serde_json::Value) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let (mut sink, mut source) = socket.split();
    let ready = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    let (early_tx, early_rx) = oneshot::channel::<()>();
    let reader = {
        let ready = ready.clone();
        tokio::spawn(async move {
            let mut init_seen = false;
            // An error (including a message over the size cap) ends the connection.
            while let Some(Ok(message)) = source.next().await {
                let data = match message {
                    Message::Text(text) => text.as_bytes().to_vec(),
                    Message::Binary(bytes) => bytes.to_vec(),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                if !ready.load(Ordering::SeqCst) {
                    if init_seen || !is_connection_init(&data) {
                        let _ = early_tx.send(());
                        return;
                    }
                    init_seen = true;
                }
                if tx.send(data).await.is_err() {
                    return;
                }
            }
        })
    };
    let input = tokio_stream::wrappers::ReceiverStream::new(rx);
    let init_ready = ready.clone();
    let mut output = GqlWebSocket::new(executor, input, protocol)
        .on_connection_init(move |payload| async move {
            let data = on_init(payload).await?;
            // Set before the ack is sent: what the client sends after the ack is fine.
            init_ready.store(true, Ordering::SeqCst);
            Ok(data)
        })
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        });
    let mut early = early_rx;
    let SessionWatch {
        session: mut session_rx,
        auth,
    } = watch;
    let mut session: Option<SessionId> = None;
    let mut check = tokio::time::interval(SESSION_CHECK_INTERVAL);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // First: the reader signals before it ends the input, so a violation is
            // reported with its close code rather than as a plain end of input.
            biased;
            Ok(()) = &mut early => {
                let close = Message::Close(Some(CloseFrame {
                    code: CLOSE_EARLY_MESSAGE,
                    reason: "message before connection_init completed".into(),
                }));
                let _ = sink.send(close).await;
                break;
            }
            Ok(id) = &mut session_rx, if session.is_none() => session = Some(id),
            _ = check.tick(), if session.is_some() => {
                // An error asking is no proof the session ended: keep serving and ask
                // again on the next tick.
                let ended = match session {
                    Some(id) => auth.session_ended(id).await.unwrap_or(false),
                    None => false,
                };
                if ended {
                    let close = Message::Close(Some(CloseFrame {
                        code: CLOSE_SESSION_ENDED,
                        reason: "session ended".into(),
                    }));
                    let _ = sink.send(close).await;
                    break;
                }
            }
            message = output.next() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    reader.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_key_and_released_on_drop() {
        let counts = Arc::new(ConnectionCounts::default());
        let a = counts.acquire("ip:1".into(), 2).unwrap();
        let _b = counts.acquire("ip:1".into(), 2).unwrap();
        assert!(counts.acquire("ip:1".into(), 2).is_none());
        assert!(counts.acquire("ip:2".into(), 2).is_some());
        drop(a);
        assert!(counts.acquire("ip:1".into(), 2).is_some());
    }

    #[test]
    fn only_connection_init_opens_a_connection() {
        assert!(is_connection_init(
            br#"{"type":"connection_init","payload":{}}"#
        ));
        assert!(!is_connection_init(br#"{"type":"subscribe","id":"1"}"#));
        assert!(!is_connection_init(b"garbage"));
    }
}
