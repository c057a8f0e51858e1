//! End-to-end encrypted chat: conversations, members, message pages (ciphertext only,
//! base64) and live events. The gateway never sees plaintext either.

use std::sync::Arc;

use async_graphql::{ID, InputObject, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nova_chat::{ChatApi, LiveEvent, ReceiptKind};
use nova_core::{Error, Timestamp};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};

use super::parse_id;
use crate::context::RequestCtx;
use crate::error::{GqlResult, IntoGql};

/// The chat domain, or `UNAVAILABLE` where it is not served.
pub(crate) fn chat_api(call: &RequestCtx) -> GqlResult<Arc<dyn ChatApi>> {
    call.domains
        .chat
        .clone()
        .ok_or_else(|| Error::unavailable("chat is not served here"))
        .gql()
}

/// A conversation as the caller sees it.
#[derive(SimpleObject)]
pub(crate) struct ChatConversation {
    /// Its id.
    pub id: ID,
    /// `direct` or `group`.
    pub kind: String,
    /// Group title (empty for direct).
    pub title: String,
    /// Group avatar media id (or empty).
    pub avatar_media_id: String,
    /// Who created it.
    pub created_by: ID,
    /// Grows on every membership change (rotate the group session then).
    pub member_version: i64,
    /// The newest message id (0: none).
    pub last_message_id: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// The caller's role: `owner`, `admin` or `member`.
    pub role: String,
    /// Archived for the caller.
    pub archived: bool,
    /// New messages keep it archived.
    pub keep_archived: bool,
    /// Muted for the caller until then.
    pub muted_until: Option<Timestamp>,
    /// The newest message id the caller read.
    pub read_up_to: i64,
}

impl From<nova_chat::Conversation> for ChatConversation {
    fn from(c: nova_chat::Conversation) -> Self {
        Self {
            id: ID(c.id.to_string()),
            kind: c.kind.as_str().to_owned(),
            title: c.title,
            avatar_media_id: c.avatar_media_id,
            created_by: ID(c.created_by.to_string()),
            member_version: c.member_version,
            last_message_id: c.last_message_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            role: c.role.as_str().to_owned(),
            archived: c.archived,
            keep_archived: c.keep_archived,
            muted_until: c.muted_until,
            read_up_to: c.read_up_to,
        }
    }
}

/// One member.
#[derive(SimpleObject)]
pub(crate) struct ChatMember {
    /// The user.
    pub user_id: ID,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// Joined.
    pub joined_at: Timestamp,
    /// Read receipt: newest message id read.
    pub read_up_to: i64,
    /// Delivery receipt: newest message id a device of theirs acknowledged.
    pub delivered_up_to: i64,
}

/// The members at a version.
#[derive(SimpleObject)]
pub(crate) struct ChatMembers {
    /// The member version.
    pub version: i64,
    /// Members.
    pub members: Vec<ChatMember>,
}

impl From<nova_chat::Members> for ChatMembers {
    fn from(m: nova_chat::Members) -> Self {
        Self {
            version: m.version,
            members: m
                .members
                .into_iter()
                .map(|m| ChatMember {
                    user_id: ID(m.user_id.to_string()),
                    role: m.role.as_str().to_owned(),
                    joined_at: m.joined_at,
                    read_up_to: m.read_up_to,
                    delivered_up_to: m.delivered_up_to,
                })
                .collect(),
        }
    }
}

/// A ciphertext.
#[derive(SimpleObject)]
pub(crate) struct ChatCiphertext {
    /// `olm.prekey.v1`, `olm.normal.v1` or `megolm.v1`.
    pub algorithm: String,
    /// Session id.
    pub session_id: String,
    /// The ciphertext, base64.
    pub ciphertext: String,
}

/// A message of a history page, with the envelopes the asking device can open.
#[derive(SimpleObject)]
pub(crate) struct ChatMessage {
    /// The message id.
    pub message_id: i64,
    /// `message`, `edit`, `delete` or `reaction`.
    pub kind: String,
    /// The sender.
    pub sender_user_id: ID,
    /// The sending device.
    pub sender_device_id: String,
    /// Accepted then.
    pub created_at: Timestamp,
    /// Ciphertexts for the device.
    pub envelopes: Vec<ChatCiphertext>,
}

impl From<nova_chat::HistoryItem> for ChatMessage {
    fn from(h: nova_chat::HistoryItem) -> Self {
        Self {
            message_id: h.message_id,
            kind: h.kind.as_str().to_owned(),
            sender_user_id: ID(h.sender.user_id.to_string()),
            sender_device_id: h.sender.device_id.to_string(),
            created_at: h.created_at,
            envelopes: h
                .envelopes
                .into_iter()
                .map(|e| ChatCiphertext {
                    algorithm: e.algorithm.as_str().to_owned(),
                    session_id: e.session_id,
                    ciphertext: STANDARD.encode(e.ciphertext),
                })
                .collect(),
        }
    }
}

/// A recipient device.
#[derive(InputObject)]
pub(crate) struct ChatDeviceInput {
    /// The user.
    pub user_id: ID,
    /// Their device.
    pub device_id: String,
}

/// One ciphertext and its recipient devices.
#[derive(InputObject)]
pub(crate) struct ChatEnvelopeInput {
    /// `olm.prekey.v1`, `olm.normal.v1` or `megolm.v1`.
    pub algorithm: String,
    /// Session id.
    pub session_id: String,
    /// The ciphertext, base64 (at most 64 KiB decoded).
    pub ciphertext: String,
    /// Recipient devices (one for Olm).
    pub recipients: Vec<ChatDeviceInput>,
}

/// An encrypted message to send.
#[derive(InputObject)]
pub(crate) struct ChatMessageInput {
    /// The sending device.
    pub sender_device: String,
    /// Chosen by the client: a retry with the same key stores nothing new.
    pub idempotency_key: String,
    /// `message` (default), `edit`, `delete` or `reaction`.
    pub kind: Option<String>,
    /// Ciphertexts.
    pub envelopes: Vec<ChatEnvelopeInput>,
}

impl ChatMessageInput {
    /// The domain message (bad input names its field).
    pub fn into_message(self) -> GqlResult<nova_chat::NewMessage> {
        let envelopes = self
            .envelopes
            .into_iter()
            .map(|e| {
                let recipients = e
                    .recipients
                    .iter()
                    .map(|r| {
                        Ok(DeviceAddress::new(
                            parse_id(&r.user_id, "recipients.userId")?,
                            DeviceId::new(r.device_id.clone()).gql()?,
                        ))
                    })
                    .collect::<GqlResult<Vec<_>>>()?;
                Ok(nova_chat::Envelope {
                    algorithm: Algorithm::parse(&e.algorithm).gql()?,
                    session_id: e.session_id,
                    ciphertext: STANDARD
                        .decode(e.ciphertext.as_bytes())
                        .map_err(|_| Error::invalid("ciphertext", "not base64"))
                        .gql()?,
                    recipients,
                })
            })
            .collect::<GqlResult<Vec<_>>>()?;
        Ok(nova_chat::NewMessage {
            sender_device: DeviceId::new(self.sender_device).gql()?,
            idempotency_key: self.idempotency_key,
            kind: match self.kind.as_deref() {
                None => nova_chat::MessageKind::Message,
                Some(k) => nova_chat::MessageKind::parse(k).gql()?,
            },
            envelopes,
        })
    }
}

/// The outcome of a send.
#[derive(SimpleObject)]
pub(crate) struct ChatSent {
    /// The message id.
    pub message_id: i64,
    /// Accepted then.
    pub created_at: Timestamp,
    /// A retry: nothing new was stored.
    pub duplicate: bool,
}

impl From<nova_chat::Sent> for ChatSent {
    fn from(s: nova_chat::Sent) -> Self {
        Self {
            message_id: s.message_id,
            created_at: s.created_at,
            duplicate: s.duplicate,
        }
    }
}

/// A live chat event for one device: `delivery` (a ciphertext to acknowledge by `seq`),
/// `typing`, `receipt` or `members`.
#[derive(SimpleObject)]
pub(crate) struct ChatEvent {
    /// `delivery`, `typing`, `receipt` or `members`.
    pub kind: String,
    /// The conversation.
    pub conversation_id: ID,
    /// Who (typing, receipt).
    pub user_id: Option<ID>,
    /// The device's queue position (delivery).
    pub seq: Option<i64>,
    /// The message (delivery).
    pub message_id: Option<i64>,
    /// The sender (delivery).
    pub sender_user_id: Option<ID>,
    /// The sending device (delivery).
    pub sender_device_id: Option<String>,
    /// The ciphertext (delivery).
    pub ciphertext: Option<ChatCiphertext>,
    /// `delivered` or `read` (receipt).
    pub receipt: Option<String>,
    /// Up to this message id (receipt).
    pub up_to: Option<i64>,
    /// The new member version (members).
    pub member_version: Option<i64>,
}

impl ChatEvent {
    fn empty(kind: &str, conversation_id: nova_chat::ConversationId) -> Self {
        Self {
            kind: kind.to_owned(),
            conversation_id: ID(conversation_id.to_string()),
            user_id: None,
            seq: None,
            message_id: None,
            sender_user_id: None,
            sender_device_id: None,
            ciphertext: None,
            receipt: None,
            up_to: None,
            member_version: None,
        }
    }
}

impl ChatEvent {
    /// The GraphQL form of a live event; `None` for calls, signaling and location
    /// sharing, which clients follow over the chat WebSocket.
    pub(crate) fn from_live(e: LiveEvent) -> Option<Self> {
        Some(match e {
            LiveEvent::Delivery(d) => Self {
                seq: Some(d.seq),
                message_id: Some(d.message_id),
                sender_user_id: Some(ID(d.sender.user_id.to_string())),
                sender_device_id: Some(d.sender.device_id.to_string()),
                ciphertext: Some(ChatCiphertext {
                    algorithm: d.algorithm.as_str().to_owned(),
                    session_id: d.session_id,
                    ciphertext: STANDARD.encode(d.ciphertext),
                }),
                ..Self::empty("delivery", d.conversation_id)
            },
            LiveEvent::Typing {
                conversation_id,
                user_id,
            } => Self {
                user_id: Some(ID(user_id.to_string())),
                ..Self::empty("typing", conversation_id)
            },
            LiveEvent::Receipt {
                conversation_id,
                user_id,
                receipt,
                up_to,
            } => Self {
                user_id: Some(ID(user_id.to_string())),
                receipt: Some(
                    match receipt {
                        ReceiptKind::Delivered => "delivered",
                        ReceiptKind::Read => "read",
                    }
                    .into(),
                ),
                up_to: Some(up_to),
                ..Self::empty("receipt", conversation_id)
            },
            LiveEvent::Members {
                conversation_id,
                version,
            } => Self {
                member_version: Some(version),
                ..Self::empty("members", conversation_id)
            },
            LiveEvent::Call { .. }
            | LiveEvent::Signal(_)
            | LiveEvent::LocationShare { .. }
            | LiveEvent::Location(_) => return None,
        })
    }
}
