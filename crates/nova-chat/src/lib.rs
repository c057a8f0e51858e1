//! # nova-chat
//!
//! End-to-end encrypted conversations. The server stores and relays ciphertext only:
//! clients encrypt with Olm (1:1, one envelope per recipient device) or Megolm (groups,
//! one ciphertext for every device) through the `nova-e2ee-client` SDK, whose keys the
//! `nova-e2ee` key directory publishes. Plaintext never reaches this crate.
//!
//! - **Conversations**: direct ones (one per pair) and groups of up to
//!   [`model::MAX_GROUP_MEMBERS`] with owner / admin / member roles; invite, kick, leave,
//!   title and avatar; a member list whose version grows on every change (clients rotate
//!   their Megolm session when it does).
//! - **Who may message whom**: each user's [`DmPolicy`] (everyone, people they follow,
//!   nobody) and blocks both ways, asked through the [`ChatRelations`] port (answered by
//!   social in `nova-app`). A pair that may not talk gets the same `NotFound` as a missing
//!   user; in groups, envelopes never reach a member who blocked the sender.
//! - **Messages**: ciphertext envelopes checked for shape (parsed, never opened), at most
//!   64 KiB each (`PayloadTooLarge`, 413), a client idempotency key (a retry stores
//!   nothing new), a per-user send bucket (`RateLimited`, 429), and a
//!   `chat.message_sent` outbox event without content.
//! - **Per-device queues**: each device's envelopes carry its own contiguous sequence;
//!   acknowledging removes them and moves the member's delivery receipt; what is never
//!   acknowledged expires (30 days by default). Read receipts, archiving (a new message
//!   unarchives unless "keep archived") and mute.
//! - **Live delivery** ([`ws`]): a WebSocket per device that resumes from the device's
//!   cursor with no loss and no duplicates, fed by pub/sub (in-process, or Redis across
//!   replicas).
//! - **Calls and location sharing** ([`CallApi`]): ring, accept, decline, busy, hang up
//!   and a server-side ring timeout ([`ChatService::expire_calls`]); SDP and ICE relayed
//!   live between the participants' devices, never stored; TURN credentials per coturn's
//!   REST API ([`CallSettings`]); live location shares of 15 min, 1 h or 8 h whose
//!   updates are E2EE ciphertext relayed live (1 per 5 s) and refused after the share
//!   ends. Call events (`chat.call_started`, `chat.call_ended`) go to the outbox.
//! - **gRPC** ([`grpc`]): `nova.chat.v1.ChatService`, one RPC per [`ChatApi`] method and
//!   the live stream; [`grpc::ChatGrpcClient`] is a [`ChatApi`] too, so the GraphQL
//!   gateway and the WebSocket work the same over a remote chat service.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_chat::{ChatApi, ChatRelations, ChatService, Reach, store::SqlChatStore};
//! use nova_core::{Principal, SessionId, UserId};
//!
//! /// Everyone exists and may talk (nova-app asks the social domain instead).
//! struct Open;
//! #[async_trait::async_trait]
//! impl ChatRelations for Open {
//!     async fn reach(&self, _: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
//!         Ok(vec![Reach { exists: true, can_interact: true, follows_actor: false }; others.len()])
//!     }
//! }
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let chat = ChatService::new(Arc::new(SqlChatStore::new(db)), Arc::new(Open));
//! let (ann, bob) = (Principal::user(UserId::new(), SessionId::new()), UserId::new());
//! let direct = chat.open_direct(&ann, bob).await?;
//! // One conversation per pair.
//! assert_eq!(chat.open_direct(&ann, bob).await?.id, direct.id);
//! assert_eq!(chat.members(&ann, direct.id).await?.members.len(), 2);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod config;
pub mod events;
pub mod grpc;
pub mod http;
pub mod model;
mod ports;
mod service;
pub mod store;
pub mod ws;

pub use api::{CallApi, ChatApi};
pub use config::{CHAT_ENV_VARS, CallSettings};
pub use model::{
    Call, CallId, CallParticipant, CallStatus, Conversation, ConversationId, ConversationKind,
    Delivery, DmPolicy, EndReason, Envelope, HistoryItem, LiveEvent, LocationDelivery,
    LocationShare, LocationShareId, LocationUpdate, Member, Members, MessageKind, NewMessage,
    ParticipantState, ReceiptKind, Role, Sent, Signal, SignalKind, TurnCredentials,
};
pub use ports::{ChatRelations, Reach};
pub use service::{ChatLimits, ChatService, channel};
