//! Model ↔ protobuf conversions. Input from the wire is validated on the way in
//! (`InvalidArgument` naming the field).

use chrono::{DateTime, Utc};
use nova_core::{Error, Result, Timestamp, UserId};
use nova_proto::nova::e2ee::v1 as pb;

use crate::model::{
    Algorithm, ClaimedKey, DeviceAddress, DeviceId, DeviceKeys, DeviceList, EncryptedMessage,
    KeyCounts, KeyKind, KeyUpload, OutgoingMessage, SignedKey,
};

pub(crate) fn user(value: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(value, field)
}

pub(crate) fn users(values: &[String], field: &str) -> Result<Vec<UserId>> {
    values.iter().map(|u| user(u, field)).collect()
}

pub(crate) fn device(value: String) -> Result<DeviceId> {
    DeviceId::new(value)
}

pub(crate) fn address(a: &DeviceAddress) -> pb::DeviceAddress {
    pb::DeviceAddress {
        user_id: a.user_id.to_string(),
        device_id: a.device_id.to_string(),
    }
}

pub(crate) fn address_from(a: Option<pb::DeviceAddress>, field: &str) -> Result<DeviceAddress> {
    let a = a.ok_or_else(|| Error::invalid(field, "required"))?;
    Ok(DeviceAddress::new(
        user(&a.user_id, field)?,
        device(a.device_id)?,
    ))
}

pub(crate) fn device_keys(k: &DeviceKeys) -> pb::DeviceKeys {
    pb::DeviceKeys {
        user_id: k.user_id.to_string(),
        device_id: k.device_id.to_string(),
        curve25519: k.curve25519.clone(),
        ed25519: k.ed25519.clone(),
        signature: k.signature.clone(),
    }
}

pub(crate) fn device_keys_from(k: pb::DeviceKeys) -> Result<DeviceKeys> {
    Ok(DeviceKeys {
        user_id: user(&k.user_id, "device_keys.user_id")?,
        device_id: device(k.device_id)?,
        curve25519: k.curve25519,
        ed25519: k.ed25519,
        signature: k.signature,
    })
}

pub(crate) fn signed_key(k: &SignedKey) -> pb::SignedKey {
    pb::SignedKey {
        key_id: k.key_id.clone(),
        public_key: k.public_key.clone(),
        signature: k.signature.clone(),
    }
}

pub(crate) fn signed_key_from(k: pb::SignedKey) -> SignedKey {
    SignedKey {
        key_id: k.key_id,
        public_key: k.public_key,
        signature: k.signature,
    }
}

pub(crate) fn upload_from(r: pb::UploadKeysRequest) -> Result<(DeviceId, KeyUpload)> {
    Ok((
        device(r.device_id)?,
        KeyUpload {
            device_keys: r.device_keys.map(device_keys_from).transpose()?,
            one_time_keys: r.one_time_keys.into_iter().map(signed_key_from).collect(),
            fallback_key: r.fallback_key.map(signed_key_from),
        },
    ))
}

pub(crate) fn upload(device: &DeviceId, u: &KeyUpload) -> pb::UploadKeysRequest {
    pb::UploadKeysRequest {
        device_id: device.to_string(),
        device_keys: u.device_keys.as_ref().map(device_keys),
        one_time_keys: u.one_time_keys.iter().map(signed_key).collect(),
        fallback_key: u.fallback_key.as_ref().map(signed_key),
    }
}

pub(crate) fn counts(c: KeyCounts) -> pb::KeyCounts {
    pb::KeyCounts {
        one_time_keys: c.one_time_keys,
        fallback_key: c.fallback_key,
    }
}

pub(crate) fn counts_from(c: pb::KeyCounts) -> KeyCounts {
    KeyCounts {
        one_time_keys: c.one_time_keys,
        fallback_key: c.fallback_key,
    }
}

pub(crate) fn list(l: &DeviceList) -> pb::DeviceList {
    pb::DeviceList {
        user_id: l.user_id.to_string(),
        version: l.version,
        devices: l.devices.iter().map(device_keys).collect(),
    }
}

pub(crate) fn list_from(l: pb::DeviceList) -> Result<DeviceList> {
    Ok(DeviceList {
        user_id: user(&l.user_id, "user_id")?,
        version: l.version,
        devices: l
            .devices
            .into_iter()
            .map(device_keys_from)
            .collect::<Result<_>>()?,
    })
}

fn kind(k: KeyKind) -> pb::KeyKind {
    match k {
        KeyKind::OneTime => pb::KeyKind::OneTime,
        KeyKind::Fallback => pb::KeyKind::Fallback,
    }
}

pub(crate) fn claimed(c: &ClaimedKey) -> pb::ClaimedKey {
    pb::ClaimedKey {
        device: Some(device_keys(&c.device)),
        key: Some(signed_key(&c.key)),
        kind: kind(c.kind).into(),
    }
}

pub(crate) fn claimed_from(c: pb::ClaimedKey) -> Result<ClaimedKey> {
    let kind = match pb::KeyKind::try_from(c.kind) {
        Ok(pb::KeyKind::OneTime) => KeyKind::OneTime,
        Ok(pb::KeyKind::Fallback) => KeyKind::Fallback,
        _ => return Err(Error::invalid("kind", "unknown key kind")),
    };
    Ok(ClaimedKey {
        device: device_keys_from(
            c.device
                .ok_or_else(|| Error::invalid("device", "required"))?,
        )?,
        key: signed_key_from(c.key.ok_or_else(|| Error::invalid("key", "required"))?),
        kind,
    })
}

fn algorithm(a: Algorithm) -> pb::Algorithm {
    match a {
        Algorithm::OlmPreKey => pb::Algorithm::OlmPreKey,
        Algorithm::OlmNormal => pb::Algorithm::OlmNormal,
        Algorithm::Megolm => pb::Algorithm::Megolm,
    }
}

fn algorithm_from(value: i32) -> Result<Algorithm> {
    match pb::Algorithm::try_from(value) {
        Ok(pb::Algorithm::OlmPreKey) => Ok(Algorithm::OlmPreKey),
        Ok(pb::Algorithm::OlmNormal) => Ok(Algorithm::OlmNormal),
        Ok(pb::Algorithm::Megolm) => Ok(Algorithm::Megolm),
        _ => Err(Error::invalid("algorithm", "unknown algorithm")),
    }
}

pub(crate) fn outgoing(m: &OutgoingMessage) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        sender_device: m.sender_device.to_string(),
        algorithm: algorithm(m.algorithm).into(),
        session_id: m.session_id.clone(),
        ciphertext: m.ciphertext.clone(),
        recipients: m.recipients.iter().map(address).collect(),
    }
}

pub(crate) fn outgoing_from(r: pb::SendMessageRequest) -> Result<OutgoingMessage> {
    Ok(OutgoingMessage {
        sender_device: device(r.sender_device)?,
        algorithm: algorithm_from(r.algorithm)?,
        session_id: r.session_id,
        ciphertext: r.ciphertext,
        recipients: r
            .recipients
            .into_iter()
            .map(|a| address_from(Some(a), "recipients"))
            .collect::<Result<_>>()?,
    })
}

fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn timestamp_from(t: Option<prost_types::Timestamp>) -> Result<Timestamp> {
    let t = t.ok_or_else(|| Error::invalid("created_at", "required"))?;
    let nanos = u32::try_from(t.nanos).map_err(|_| Error::invalid("created_at", "bad time"))?;
    DateTime::<Utc>::from_timestamp(t.seconds, nanos)
        .ok_or_else(|| Error::invalid("created_at", "bad time"))
}

pub(crate) fn message(m: &EncryptedMessage) -> pb::EncryptedMessage {
    pb::EncryptedMessage {
        id: m.id,
        sender: Some(address(&m.sender)),
        algorithm: algorithm(m.algorithm).into(),
        session_id: m.session_id.clone(),
        ciphertext: m.ciphertext.clone(),
        created_at: Some(timestamp(m.created_at)),
    }
}

pub(crate) fn message_from(m: pb::EncryptedMessage) -> Result<EncryptedMessage> {
    Ok(EncryptedMessage {
        id: m.id,
        sender: address_from(m.sender, "sender")?,
        algorithm: algorithm_from(m.algorithm)?,
        session_id: m.session_id,
        ciphertext: m.ciphertext,
        created_at: timestamp_from(m.created_at)?,
    })
}
