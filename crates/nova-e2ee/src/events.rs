//! The key directory's outbox events, around the `nova.e2ee.v1` payloads.

use nova_core::{Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_proto::nova::e2ee::v1 as pb;
use prost::Message;

use crate::model::DeviceId;

/// A user's device set changed ([`pb::DeviceListChanged`]).
pub const DEVICE_LIST_CHANGED: &str = "e2ee.device_list_changed";

/// `e2ee.device_list_changed` for `change` (`added` or `removed`) at `version`.
pub fn device_list_changed(
    user: UserId,
    device: &DeviceId,
    change: &str,
    version: i64,
    at: Timestamp,
) -> EventEnvelope {
    let payload = pb::DeviceListChanged {
        user_id: user.to_string(),
        device_id: device.to_string(),
        change: change.to_owned(),
        version,
    };
    EventEnvelope::new(
        DEVICE_LIST_CHANGED,
        user.to_string(),
        at,
        payload.encode_to_vec(),
    )
}
