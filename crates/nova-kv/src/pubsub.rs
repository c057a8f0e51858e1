//! The publish/subscribe port and its in-process implementation (tokio broadcast).
//!
//! Delivery is fire-and-forget, as with Redis `PUBLISH`: a message reaches the subscribers
//! that exist when it is published, and nobody else. Durable delivery belongs to the event
//! bus (`nova-events`), not here.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::{Stream, StreamExt};
use nova_core::Result;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// One published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The channel it was published on (without any key prefix).
    pub channel: String,
    /// The payload, as published.
    pub payload: Vec<u8>,
}

/// The messages of one subscription. It ends when the subscription's connection is lost;
/// subscribers that must keep listening subscribe again.
pub type MessageStream = Pin<Box<dyn Stream<Item = Message> + Send>>;

/// Channel-based publish/subscribe.
#[async_trait]
pub trait PubSub: Send + Sync {
    /// Sends `payload` to every current subscriber of `channel`.
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<()>;

    /// Subscribes to `channel`. Messages published after this returns are delivered.
    async fn subscribe(&self, channel: &str) -> Result<MessageStream>;
}

/// Messages buffered per channel before a slow subscriber starts missing some.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 1024;

/// Publish/subscribe within this process: one tokio broadcast channel per channel name.
///
/// A subscriber that falls more than the channel capacity behind skips the oldest
/// messages (a warning is logged). Channels without subscribers are dropped on publish.
#[derive(Debug)]
pub struct InProcessPubSub {
    capacity: usize,
    channels: Mutex<HashMap<String, broadcast::Sender<Message>>>,
}

impl InProcessPubSub {
    /// A hub buffering up to `capacity` messages per channel (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            channels: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for InProcessPubSub {
    /// A hub with [`DEFAULT_CHANNEL_CAPACITY`].
    fn default() -> Self {
        Self::new(DEFAULT_CHANNEL_CAPACITY)
    }
}

#[async_trait]
impl PubSub for InProcessPubSub {
    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<()> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sender) = channels.get(channel) else {
            return Ok(());
        };
        let message = Message {
            channel: channel.to_owned(),
            payload,
        };
        if sender.send(message).is_err() {
            // Every receiver is gone: forget the channel.
            channels.remove(channel);
        }
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<MessageStream> {
        let receiver = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            channels
                .entry(channel.to_owned())
                .or_insert_with(|| broadcast::channel(self.capacity).0)
                .subscribe()
        };
        let stream = BroadcastStream::new(receiver).filter_map(|item| async move {
            match item {
                Ok(message) => Some(message),
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "pub/sub subscriber lagged; messages were skipped");
                    None
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
