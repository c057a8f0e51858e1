//! The graph's outbox events: type names and envelopes around the
//! `nova.graph.v1` payloads.

use nova_core::{Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_proto::nova::graph::v1 as pb;
use prost::Message;

use crate::grpc::timestamp;
use crate::model::MuteSettings;

pub use nova_events::types::{
    BLOCK_CREATED, BLOCK_REMOVED, FOLLOW_CREATED, FOLLOW_REMOVED, MUTE_CREATED, MUTE_REMOVED,
};

fn envelope(kind: &str, actor: UserId, at: Timestamp, payload: &impl Message) -> EventEnvelope {
    EventEnvelope::new(kind, actor.to_string(), at, payload.encode_to_vec())
}

/// `follow.created`.
pub fn follow_created(follower: UserId, followee: UserId, at: Timestamp) -> EventEnvelope {
    let payload = pb::FollowCreated {
        follower_id: follower.to_string(),
        followee_id: followee.to_string(),
    };
    envelope(FOLLOW_CREATED, follower, at, &payload)
}

/// `follow.removed` with `reason` (`unfollow` or `block`).
pub fn follow_removed(
    follower: UserId,
    followee: UserId,
    reason: &str,
    at: Timestamp,
) -> EventEnvelope {
    let payload = pb::FollowRemoved {
        follower_id: follower.to_string(),
        followee_id: followee.to_string(),
        reason: reason.to_owned(),
    };
    envelope(FOLLOW_REMOVED, follower, at, &payload)
}

/// `block.created`.
pub fn block_created(blocker: UserId, blocked: UserId, at: Timestamp) -> EventEnvelope {
    let payload = pb::BlockCreated {
        blocker_id: blocker.to_string(),
        blocked_id: blocked.to_string(),
    };
    envelope(BLOCK_CREATED, blocker, at, &payload)
}

/// `block.removed`.
pub fn block_removed(blocker: UserId, blocked: UserId, at: Timestamp) -> EventEnvelope {
    let payload = pb::BlockRemoved {
        blocker_id: blocker.to_string(),
        blocked_id: blocked.to_string(),
    };
    envelope(BLOCK_REMOVED, blocker, at, &payload)
}

/// `mute.created`.
pub fn mute_created(
    muter: UserId,
    muted: UserId,
    settings: MuteSettings,
    at: Timestamp,
) -> EventEnvelope {
    let payload = pb::MuteCreated {
        muter_id: muter.to_string(),
        muted_id: muted.to_string(),
        until: settings.until.map(timestamp),
        reposts_only: settings.reposts_only,
    };
    envelope(MUTE_CREATED, muter, at, &payload)
}

/// `mute.removed`.
pub fn mute_removed(muter: UserId, muted: UserId, at: Timestamp) -> EventEnvelope {
    let payload = pb::MuteRemoved {
        muter_id: muter.to_string(),
        muted_id: muted.to_string(),
    };
    envelope(MUTE_REMOVED, muter, at, &payload)
}
