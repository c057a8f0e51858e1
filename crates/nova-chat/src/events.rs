//! The chat domain's outbox events (`nova.chat.v1` payloads): metadata only, never
//! ciphertext or plaintext.

use nova_core::{Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_events::types::{CHAT_CONVERSATION_CREATED, CHAT_MEMBERS_CHANGED, CHAT_MESSAGE_SENT};
use nova_proto::nova::chat::v1 as pb;
use prost::Message;

use crate::model::{ConversationId, ConversationKind, MessageKind};

fn ids(users: &[UserId]) -> Vec<String> {
    users.iter().map(ToString::to_string).collect()
}

/// `chat.conversation_created`.
pub fn conversation_created(
    id: ConversationId,
    kind: ConversationKind,
    created_by: UserId,
    members: &[UserId],
    at: Timestamp,
) -> EventEnvelope {
    let payload = pb::ConversationCreated {
        conversation_id: id.to_string(),
        kind: kind.as_str().to_owned(),
        created_by: created_by.to_string(),
        member_ids: ids(members),
    };
    EventEnvelope::new(
        CHAT_CONVERSATION_CREATED,
        id.to_string(),
        at,
        payload.encode_to_vec(),
    )
}

/// `chat.members_changed` (`change`: `added`, `removed` or `role`).
pub fn members_changed(
    id: ConversationId,
    change: &str,
    users: &[UserId],
    version: i64,
    actor: UserId,
    at: Timestamp,
) -> EventEnvelope {
    let payload = pb::MembersChanged {
        conversation_id: id.to_string(),
        change: change.to_owned(),
        user_ids: ids(users),
        member_version: version,
        actor_id: actor.to_string(),
    };
    EventEnvelope::new(
        CHAT_MEMBERS_CHANGED,
        id.to_string(),
        at,
        payload.encode_to_vec(),
    )
}

/// What a stored message's event says.
pub(crate) struct SentFacts<'a> {
    pub conversation: ConversationId,
    pub message_id: i64,
    pub sender: UserId,
    pub sender_device: &'a str,
    pub kind: MessageKind,
    pub recipients: Vec<UserId>,
    pub devices: usize,
}

/// `chat.message_sent`.
pub(crate) fn message_sent(facts: &SentFacts<'_>, at: Timestamp) -> EventEnvelope {
    let payload = pb::MessageSent {
        conversation_id: facts.conversation.to_string(),
        message_id: facts.message_id,
        sender_id: facts.sender.to_string(),
        sender_device_id: facts.sender_device.to_owned(),
        kind: facts.kind.as_str().to_owned(),
        recipient_ids: ids(&facts.recipients),
        device_count: u32::try_from(facts.devices).unwrap_or(u32::MAX),
    };
    EventEnvelope::new(
        CHAT_MESSAGE_SENT,
        facts.conversation.to_string(),
        at,
        payload.encode_to_vec(),
    )
}
