//! Model ↔ protobuf conversions. What comes from the wire is checked on the way in: a
//! bad field is `InvalidArgument` naming it (the server answers that to its caller; the
//! client turns it into `Internal` with [`response`], since a malformed answer is the
//! server's fault, not the caller's).

use nova_core::error::cap;
use nova_core::{Error, ErrorKind, Result, Timestamp, UserId};
use nova_e2ee::model::MAX_RECIPIENTS;
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};
use nova_proto::nova::chat::v1 as pb;
use nova_proto::nova::e2ee::v1 as e2ee;

mod calls;

pub(crate) use calls::{
    call, call_from, call_id, share, share_from, share_id, signal_kind, turn, turn_from,
    update_request, update_request_from,
};

use crate::model::{
    Conversation, ConversationId, ConversationKind, Delivery, Envelope, HistoryEnvelope,
    HistoryItem, LiveEvent, MAX_ENVELOPES, Member, Members, MessageKind, NewMessage, ReceiptKind,
    Role, Sent,
};

/// A decoded response: a field the server got wrong is `Internal`, never the caller's
/// `InvalidArgument`.
pub(crate) fn response<T>(decoded: Result<T>) -> Result<T> {
    decoded.map_err(|e| match e.kind() {
        ErrorKind::InvalidArgument { field } => Error::internal(format!(
            "chat gRPC response: missing or malformed `{field}`"
        )),
        _ => e,
    })
}

/// `value` parsed as a wire enumeration, naming `field` when unknown.
fn named<T>(parsed: Result<T>, field: &str) -> Result<T> {
    parsed.map_err(|e| Error::invalid(field, e.message()))
}

pub(crate) fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub(crate) fn timestamp_from(t: Option<&prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    let t = t.ok_or_else(|| Error::invalid(field, "required"))?;
    u32::try_from(t.nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
        .ok_or_else(|| Error::invalid(field, "not a valid time"))
}

pub(crate) fn user(value: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(value, field)
}

/// At most `max` user ids (counted before parsing), each parsed naming `field`.
pub(crate) fn users(values: &[String], field: &str, max: usize) -> Result<Vec<UserId>> {
    cap(field, values.len(), max)?;
    values.iter().map(|u| user(u, field)).collect()
}

pub(crate) fn conversation_id(value: &str) -> Result<ConversationId> {
    ConversationId::parse_field(value, "conversation_id")
}

pub(crate) fn device(value: &str, field: &str) -> Result<DeviceId> {
    named(DeviceId::new(value), field)
}

fn kind_from(value: &str, field: &str) -> Result<MessageKind> {
    named(MessageKind::parse(value), field)
}

fn algorithm(a: Algorithm) -> i32 {
    let wire = match a {
        Algorithm::OlmPreKey => e2ee::Algorithm::OlmPreKey,
        Algorithm::OlmNormal => e2ee::Algorithm::OlmNormal,
        Algorithm::Megolm => e2ee::Algorithm::Megolm,
    };
    wire.into()
}

fn algorithm_from(value: i32, field: &str) -> Result<Algorithm> {
    match e2ee::Algorithm::try_from(value) {
        Ok(e2ee::Algorithm::OlmPreKey) => Ok(Algorithm::OlmPreKey),
        Ok(e2ee::Algorithm::OlmNormal) => Ok(Algorithm::OlmNormal),
        Ok(e2ee::Algorithm::Megolm) => Ok(Algorithm::Megolm),
        _ => Err(Error::invalid(field, "unknown algorithm")),
    }
}

fn address(a: &DeviceAddress) -> e2ee::DeviceAddress {
    e2ee::DeviceAddress {
        user_id: a.user_id.to_string(),
        device_id: a.device_id.to_string(),
    }
}

fn address_from(a: Option<&e2ee::DeviceAddress>, field: &str) -> Result<DeviceAddress> {
    let a = a.ok_or_else(|| Error::invalid(field, "required"))?;
    Ok(DeviceAddress::new(
        user(&a.user_id, &format!("{field}.user_id"))?,
        device(&a.device_id, &format!("{field}.device_id"))?,
    ))
}

pub(crate) fn conversation(c: Conversation) -> pb::Conversation {
    pb::Conversation {
        id: c.id.to_string(),
        kind: c.kind.as_str().to_owned(),
        title: c.title,
        avatar_media_id: c.avatar_media_id,
        created_by: c.created_by.to_string(),
        member_version: c.member_version,
        last_message_id: c.last_message_id,
        created_at: Some(timestamp(c.created_at)),
        updated_at: Some(timestamp(c.updated_at)),
        role: c.role.as_str().to_owned(),
        archived: c.archived,
        keep_archived: c.keep_archived,
        muted_until: c.muted_until.map(timestamp),
        read_up_to: c.read_up_to,
    }
}

pub(crate) fn conversation_from(c: pb::Conversation) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId::parse_field(&c.id, "id")?,
        kind: ConversationKind::parse(&c.kind)?,
        created_by: user(&c.created_by, "created_by")?,
        member_version: c.member_version,
        last_message_id: c.last_message_id,
        created_at: timestamp_from(c.created_at.as_ref(), "created_at")?,
        updated_at: timestamp_from(c.updated_at.as_ref(), "updated_at")?,
        role: Role::parse(&c.role)?,
        archived: c.archived,
        keep_archived: c.keep_archived,
        muted_until: c
            .muted_until
            .as_ref()
            .map(|t| timestamp_from(Some(t), "muted_until"))
            .transpose()?,
        read_up_to: c.read_up_to,
        title: c.title,
        avatar_media_id: c.avatar_media_id,
    })
}

pub(crate) fn members(m: Members) -> pb::MemberList {
    pb::MemberList {
        conversation_id: m.conversation_id.to_string(),
        version: m.version,
        members: m
            .members
            .into_iter()
            .map(|m| pb::Member {
                user_id: m.user_id.to_string(),
                role: m.role.as_str().to_owned(),
                joined_at: Some(timestamp(m.joined_at)),
                read_up_to: m.read_up_to,
                delivered_up_to: m.delivered_up_to,
            })
            .collect(),
    }
}

pub(crate) fn members_from(m: pb::MemberList) -> Result<Members> {
    Ok(Members {
        conversation_id: conversation_id(&m.conversation_id)?,
        version: m.version,
        members: m
            .members
            .into_iter()
            .map(|m| {
                Ok(Member {
                    user_id: user(&m.user_id, "members.user_id")?,
                    role: named(Role::parse(&m.role), "members.role")?,
                    joined_at: timestamp_from(m.joined_at.as_ref(), "members.joined_at")?,
                    read_up_to: m.read_up_to,
                    delivered_up_to: m.delivered_up_to,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// A send request on the wire.
pub(crate) fn send_request(id: ConversationId, m: NewMessage) -> pb::SendRequest {
    pb::SendRequest {
        conversation_id: id.to_string(),
        sender_device: m.sender_device.to_string(),
        idempotency_key: m.idempotency_key,
        kind: m.kind.as_str().to_owned(),
        envelopes: m
            .envelopes
            .into_iter()
            .map(|e| pb::Envelope {
                algorithm: algorithm(e.algorithm),
                session_id: e.session_id,
                ciphertext: e.ciphertext,
                recipients: e.recipients.iter().map(address).collect(),
            })
            .collect(),
    }
}

/// A send request from the wire: at most [`MAX_ENVELOPES`] envelopes of at most
/// [`MAX_RECIPIENTS`] recipients each (counted before parsing, as the service counts
/// them), each field named as the service names it (`envelopes[i].recipients`).
pub(crate) fn send_request_from(r: pb::SendRequest) -> Result<(ConversationId, NewMessage)> {
    let id = conversation_id(&r.conversation_id)?;
    cap("envelopes", r.envelopes.len(), MAX_ENVELOPES)?;
    let kind = match r.kind.as_str() {
        "" => MessageKind::Message,
        other => kind_from(other, "kind")?,
    };
    let envelopes = r
        .envelopes
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let field = format!("envelopes[{i}].recipients");
            cap(&field, e.recipients.len(), MAX_RECIPIENTS)?;
            Ok(Envelope {
                algorithm: algorithm_from(e.algorithm, &format!("envelopes[{i}].algorithm"))?,
                session_id: e.session_id,
                ciphertext: e.ciphertext,
                recipients: e
                    .recipients
                    .iter()
                    .map(|a| address_from(Some(a), &field))
                    .collect::<Result<_>>()?,
            })
        })
        .collect::<Result<_>>()?;
    let message = NewMessage {
        sender_device: device(&r.sender_device, "sender_device")?,
        idempotency_key: r.idempotency_key,
        kind,
        envelopes,
    };
    Ok((id, message))
}

pub(crate) fn sent(s: Sent) -> pb::Sent {
    pb::Sent {
        message_id: s.message_id,
        created_at: Some(timestamp(s.created_at)),
        duplicate: s.duplicate,
    }
}

pub(crate) fn sent_from(s: pb::Sent) -> Result<Sent> {
    Ok(Sent {
        message_id: s.message_id,
        created_at: timestamp_from(s.created_at.as_ref(), "created_at")?,
        duplicate: s.duplicate,
    })
}

pub(crate) fn history_item(h: HistoryItem) -> pb::HistoryItem {
    pb::HistoryItem {
        message_id: h.message_id,
        kind: h.kind.as_str().to_owned(),
        sender: Some(address(&h.sender)),
        created_at: Some(timestamp(h.created_at)),
        envelopes: h
            .envelopes
            .into_iter()
            .map(|e| pb::HistoryEnvelope {
                algorithm: algorithm(e.algorithm),
                session_id: e.session_id,
                ciphertext: e.ciphertext,
            })
            .collect(),
    }
}

pub(crate) fn history_item_from(h: pb::HistoryItem) -> Result<HistoryItem> {
    Ok(HistoryItem {
        message_id: h.message_id,
        kind: kind_from(&h.kind, "kind")?,
        sender: address_from(h.sender.as_ref(), "sender")?,
        created_at: timestamp_from(h.created_at.as_ref(), "created_at")?,
        envelopes: h
            .envelopes
            .into_iter()
            .map(|e| {
                Ok(HistoryEnvelope {
                    algorithm: algorithm_from(e.algorithm, "envelopes.algorithm")?,
                    session_id: e.session_id,
                    ciphertext: e.ciphertext,
                })
            })
            .collect::<Result<_>>()?,
    })
}

pub(crate) fn delivery(d: Delivery) -> pb::Delivery {
    pb::Delivery {
        seq: d.seq,
        conversation_id: d.conversation_id.to_string(),
        message_id: d.message_id,
        kind: d.kind.as_str().to_owned(),
        sender: Some(address(&d.sender)),
        algorithm: algorithm(d.algorithm),
        session_id: d.session_id,
        ciphertext: d.ciphertext,
        created_at: Some(timestamp(d.created_at)),
    }
}

pub(crate) fn delivery_from(d: pb::Delivery) -> Result<Delivery> {
    Ok(Delivery {
        seq: d.seq,
        conversation_id: conversation_id(&d.conversation_id)?,
        message_id: d.message_id,
        kind: kind_from(&d.kind, "kind")?,
        sender: address_from(d.sender.as_ref(), "sender")?,
        algorithm: algorithm_from(d.algorithm, "algorithm")?,
        session_id: d.session_id,
        ciphertext: d.ciphertext,
        created_at: timestamp_from(d.created_at.as_ref(), "created_at")?,
    })
}

pub(crate) fn live_event(e: LiveEvent) -> pb::LiveEvent {
    use pb::live_event::Event;
    let event = match e {
        LiveEvent::Delivery(d) => Event::Delivery(delivery(d)),
        LiveEvent::Typing {
            conversation_id,
            user_id,
        } => Event::Typing(pb::TypingEvent {
            conversation_id: conversation_id.to_string(),
            user_id: user_id.to_string(),
        }),
        LiveEvent::Receipt {
            conversation_id,
            user_id,
            receipt,
            up_to,
        } => Event::Receipt(pb::ReceiptEvent {
            conversation_id: conversation_id.to_string(),
            user_id: user_id.to_string(),
            receipt: receipt.as_str().to_owned(),
            up_to,
        }),
        LiveEvent::Members {
            conversation_id,
            version,
        } => Event::Members(pb::MembersEvent {
            conversation_id: conversation_id.to_string(),
            version,
        }),
        LiveEvent::Call { call } => Event::Call(calls::call(call)),
        LiveEvent::Signal(s) => Event::Signal(calls::signal(s)),
        LiveEvent::LocationShare { share } => Event::LocationShare(calls::share(share)),
        LiveEvent::Location(d) => Event::Location(calls::location(d)),
    };
    pb::LiveEvent { event: Some(event) }
}

pub(crate) fn live_event_from(e: pb::LiveEvent) -> Result<LiveEvent> {
    use pb::live_event::Event;
    Ok(
        match e.event.ok_or_else(|| Error::invalid("event", "required"))? {
            Event::Delivery(d) => LiveEvent::Delivery(delivery_from(d)?),
            Event::Typing(t) => LiveEvent::Typing {
                conversation_id: conversation_id(&t.conversation_id)?,
                user_id: user(&t.user_id, "user_id")?,
            },
            Event::Receipt(r) => LiveEvent::Receipt {
                conversation_id: conversation_id(&r.conversation_id)?,
                user_id: user(&r.user_id, "user_id")?,
                receipt: ReceiptKind::parse(&r.receipt)?,
                up_to: r.up_to,
            },
            Event::Members(m) => LiveEvent::Members {
                conversation_id: conversation_id(&m.conversation_id)?,
                version: m.version,
            },
            Event::Call(c) => LiveEvent::Call {
                call: calls::call_from(c)?,
            },
            Event::Signal(s) => LiveEvent::Signal(calls::signal_from(s)?),
            Event::LocationShare(s) => LiveEvent::LocationShare {
                share: calls::share_from(s)?,
            },
            Event::Location(d) => LiveEvent::Location(calls::location_from(d)?),
        },
    )
}
