//! Call and location-share conversions (checked on the way in, as the rest of
//! [`super`]).

use nova_core::error::cap;
use nova_core::{Result, Timestamp};
use nova_e2ee::model::MAX_RECIPIENTS;
use nova_proto::nova::chat::v1 as pb;

use super::{
    address, address_from, algorithm, algorithm_from, conversation_id, device, named, timestamp,
    timestamp_from, user,
};
use crate::model::{
    Call, CallId, CallParticipant, CallStatus, EndReason, Envelope, LocationDelivery,
    LocationShare, LocationShareId, LocationUpdate, MAX_LOCATION_ENVELOPES, ParticipantState,
    Signal, SignalKind, TurnCredentials,
};

fn optional(t: Option<&prost_types::Timestamp>, field: &str) -> Result<Option<Timestamp>> {
    t.map(|t| timestamp_from(Some(t), field)).transpose()
}

pub(crate) fn call_id(value: &str) -> Result<CallId> {
    CallId::parse_field(value, "call_id")
}

pub(crate) fn share_id(value: &str) -> Result<LocationShareId> {
    LocationShareId::parse_field(value, "share_id")
}

pub(crate) fn signal_kind(value: &str) -> Result<SignalKind> {
    named(SignalKind::parse(value), "kind")
}

pub(crate) fn call(c: Call) -> pb::Call {
    pb::Call {
        id: c.id.to_string(),
        conversation_id: c.conversation_id.to_string(),
        started_by: c.started_by.to_string(),
        video: c.video,
        status: c.status.as_str().to_owned(),
        end_reason: c
            .end_reason
            .map(EndReason::as_str)
            .unwrap_or_default()
            .to_owned(),
        version: c.version,
        created_at: Some(timestamp(c.created_at)),
        ring_until: Some(timestamp(c.ring_until)),
        answered_at: c.answered_at.map(timestamp),
        ended_at: c.ended_at.map(timestamp),
        participants: c
            .participants
            .into_iter()
            .map(|p| pb::CallParticipant {
                user_id: p.user_id.to_string(),
                state: p.state.as_str().to_owned(),
                device_id: p.device_id.map(|d| d.to_string()).unwrap_or_default(),
                joined_at: p.joined_at.map(timestamp),
                left_at: p.left_at.map(timestamp),
            })
            .collect(),
    }
}

pub(crate) fn call_from(c: pb::Call) -> Result<Call> {
    Ok(Call {
        id: CallId::parse_field(&c.id, "id")?,
        conversation_id: conversation_id(&c.conversation_id)?,
        started_by: user(&c.started_by, "started_by")?,
        video: c.video,
        status: named(CallStatus::parse(&c.status), "status")?,
        end_reason: match c.end_reason.as_str() {
            "" => None,
            r => Some(named(EndReason::parse(r), "end_reason")?),
        },
        version: c.version,
        created_at: timestamp_from(c.created_at.as_ref(), "created_at")?,
        ring_until: timestamp_from(c.ring_until.as_ref(), "ring_until")?,
        answered_at: optional(c.answered_at.as_ref(), "answered_at")?,
        ended_at: optional(c.ended_at.as_ref(), "ended_at")?,
        participants: c
            .participants
            .into_iter()
            .map(|p| {
                Ok(CallParticipant {
                    user_id: user(&p.user_id, "participants.user_id")?,
                    state: named(ParticipantState::parse(&p.state), "participants.state")?,
                    device_id: match p.device_id.as_str() {
                        "" => None,
                        d => Some(device(d, "participants.device_id")?),
                    },
                    joined_at: optional(p.joined_at.as_ref(), "participants.joined_at")?,
                    left_at: optional(p.left_at.as_ref(), "participants.left_at")?,
                })
            })
            .collect::<Result<_>>()?,
    })
}

pub(crate) fn signal(s: Signal) -> pb::SignalEvent {
    pb::SignalEvent {
        call_id: s.call_id.to_string(),
        from: Some(address(&s.from)),
        kind: s.kind.as_str().to_owned(),
        payload: s.payload,
    }
}

pub(crate) fn signal_from(s: pb::SignalEvent) -> Result<Signal> {
    Ok(Signal {
        call_id: call_id(&s.call_id)?,
        from: address_from(s.from.as_ref(), "from")?,
        kind: signal_kind(&s.kind)?,
        payload: s.payload,
    })
}

pub(crate) fn turn(t: TurnCredentials) -> pb::TurnCredentialsResponse {
    pb::TurnCredentialsResponse {
        username: t.username,
        credential: t.credential,
        ttl_secs: t.ttl_secs,
        urls: t.urls,
        expires_at: Some(timestamp(t.expires_at)),
    }
}

pub(crate) fn turn_from(t: pb::TurnCredentialsResponse) -> Result<TurnCredentials> {
    Ok(TurnCredentials {
        expires_at: timestamp_from(t.expires_at.as_ref(), "expires_at")?,
        username: t.username,
        credential: t.credential,
        ttl_secs: t.ttl_secs,
        urls: t.urls,
    })
}

pub(crate) fn share(s: LocationShare) -> pb::LocationShare {
    pb::LocationShare {
        id: s.id.to_string(),
        conversation_id: s.conversation_id.to_string(),
        user_id: s.user_id.to_string(),
        started_at: Some(timestamp(s.started_at)),
        expires_at: Some(timestamp(s.expires_at)),
        stopped_at: s.stopped_at.map(timestamp),
    }
}

pub(crate) fn share_from(s: pb::LocationShare) -> Result<LocationShare> {
    Ok(LocationShare {
        id: LocationShareId::parse_field(&s.id, "id")?,
        conversation_id: conversation_id(&s.conversation_id)?,
        user_id: user(&s.user_id, "user_id")?,
        started_at: timestamp_from(s.started_at.as_ref(), "started_at")?,
        expires_at: timestamp_from(s.expires_at.as_ref(), "expires_at")?,
        stopped_at: optional(s.stopped_at.as_ref(), "stopped_at")?,
    })
}

pub(crate) fn location(d: LocationDelivery) -> pb::LocationEvent {
    pb::LocationEvent {
        share_id: d.share_id.to_string(),
        conversation_id: d.conversation_id.to_string(),
        sender: Some(address(&d.sender)),
        algorithm: algorithm(d.algorithm),
        session_id: d.session_id,
        ciphertext: d.ciphertext,
        sent_at: Some(timestamp(d.sent_at)),
    }
}

pub(crate) fn location_from(d: pb::LocationEvent) -> Result<LocationDelivery> {
    Ok(LocationDelivery {
        share_id: share_id(&d.share_id)?,
        conversation_id: conversation_id(&d.conversation_id)?,
        sender: address_from(d.sender.as_ref(), "sender")?,
        algorithm: algorithm_from(d.algorithm, "algorithm")?,
        session_id: d.session_id,
        ciphertext: d.ciphertext,
        sent_at: timestamp_from(d.sent_at.as_ref(), "sent_at")?,
    })
}

/// A location update on the wire.
pub(crate) fn update_request(id: LocationShareId, u: LocationUpdate) -> pb::UpdateLocationRequest {
    pb::UpdateLocationRequest {
        share_id: id.to_string(),
        sender_device: u.sender_device.to_string(),
        envelopes: u
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

/// A location update from the wire (lists capped before parsing).
pub(crate) fn update_request_from(
    r: pb::UpdateLocationRequest,
) -> Result<(LocationShareId, LocationUpdate)> {
    let id = share_id(&r.share_id)?;
    cap("envelopes", r.envelopes.len(), MAX_LOCATION_ENVELOPES)?;
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
    let update = LocationUpdate {
        sender_device: device(&r.sender_device, "sender_device")?,
        envelopes,
    };
    Ok((id, update))
}
