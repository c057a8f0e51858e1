//! The chat domain's outbox events (`nova.chat.v1` payloads): metadata only, never
//! ciphertext or plaintext.

use nova_core::{Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_events::types::{
    CHAT_CALL_ENDED, CHAT_CALL_STARTED, CHAT_CONVERSATION_CREATED, CHAT_LOCATION_SHARE_STARTED,
    CHAT_MEMBERS_CHANGED, CHAT_MESSAGE_SENT,
};
use nova_proto::nova::chat::v1 as pb;
use prost::Message;

use crate::model::{
    Call, ConversationId, ConversationKind, LocationShare, MessageKind, ParticipantState,
};

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

fn with_state(call: &Call, state: ParticipantState) -> Vec<String> {
    call.participants
        .iter()
        .filter(|p| p.state == state)
        .map(|p| p.user_id.to_string())
        .collect()
}

/// `chat.call_started` (the callee ids are the people rung; busy ones apart).
pub(crate) fn call_started(call: &Call) -> EventEnvelope {
    let callee_ids = with_state(call, ParticipantState::Ringing);
    let payload = pb::CallStarted {
        call_id: call.id.to_string(),
        conversation_id: call.conversation_id.to_string(),
        caller_id: call.started_by.to_string(),
        video: call.video,
        callee_ids,
        busy_ids: with_state(call, ParticipantState::Busy),
    };
    EventEnvelope::new(
        CHAT_CALL_STARTED,
        call.conversation_id.to_string(),
        call.created_at,
        payload.encode_to_vec(),
    )
}

/// `chat.call_ended`.
pub(crate) fn call_ended(call: &Call) -> EventEnvelope {
    let at = call.ended_at.unwrap_or(call.created_at);
    let duration_ms = call
        .answered_at
        .map_or(0, |answered| (at - answered).num_milliseconds().max(0));
    let payload = pb::CallEnded {
        call_id: call.id.to_string(),
        conversation_id: call.conversation_id.to_string(),
        caller_id: call.started_by.to_string(),
        video: call.video,
        reason: call
            .end_reason
            .map(|r| r.as_str())
            .unwrap_or_default()
            .to_owned(),
        joined_ids: call
            .participants
            .iter()
            .filter(|p| p.joined_at.is_some())
            .map(|p| p.user_id.to_string())
            .collect(),
        missed_ids: with_state(call, ParticipantState::Missed),
        duration_ms,
    };
    EventEnvelope::new(
        CHAT_CALL_ENDED,
        call.conversation_id.to_string(),
        at,
        payload.encode_to_vec(),
    )
}

/// `chat.location_share_started`.
pub(crate) fn location_share_started(share: &LocationShare) -> EventEnvelope {
    let duration = (share.expires_at - share.started_at).num_seconds();
    let payload = pb::LocationShareStarted {
        share_id: share.id.to_string(),
        conversation_id: share.conversation_id.to_string(),
        user_id: share.user_id.to_string(),
        duration_secs: u32::try_from(duration).unwrap_or(0),
    };
    EventEnvelope::new(
        CHAT_LOCATION_SHARE_STARTED,
        share.conversation_id.to_string(),
        share.started_at,
        payload.encode_to_vec(),
    )
}
