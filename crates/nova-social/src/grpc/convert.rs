//! Model ↔ protobuf conversions for the social gRPC adapters: request values that do
//! not parse are `InvalidArgument` naming the field; response values that do not parse
//! are `Internal` (a bug or version skew on the server side).

use nova_core::Page;
use nova_core::{Error, Result, Timestamp};
use nova_proto::nova::common::v1 as common;
use nova_proto::nova::social::v1 as pb;

use crate::model::{BlockList, FollowOutcome, FollowRequest};

/// `Internal`: the social service answered something this client cannot read.
pub(super) fn bad_response(field: &str) -> Error {
    Error::internal(format!(
        "social gRPC response: missing or malformed `{field}`"
    ))
}

pub(super) fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A timestamp from the wire; `None` if out of range.
pub(super) fn timestamp_from(t: &prost_types::Timestamp) -> Option<Timestamp> {
    let nanos = u32::try_from(t.nanos).ok()?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
}

/// An id from a request.
pub(super) fn id_arg<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be an id (UUID)"))
}

/// An id from a response.
pub(super) fn id_from<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value.parse().map_err(|_| bad_response(field))
}

pub(super) fn outcome(o: FollowOutcome) -> pb::FollowOutcome {
    match o {
        FollowOutcome::Following => pb::FollowOutcome::Following,
        FollowOutcome::Requested => pb::FollowOutcome::Requested,
        FollowOutcome::AlreadyFollowing => pb::FollowOutcome::AlreadyFollowing,
    }
}

pub(super) fn outcome_from(value: i32) -> Result<FollowOutcome> {
    match pb::FollowOutcome::try_from(value) {
        Ok(pb::FollowOutcome::Following) => Ok(FollowOutcome::Following),
        Ok(pb::FollowOutcome::Requested) => Ok(FollowOutcome::Requested),
        Ok(pb::FollowOutcome::AlreadyFollowing) => Ok(FollowOutcome::AlreadyFollowing),
        _ => Err(bad_response("outcome")),
    }
}

pub(super) fn request(r: FollowRequest) -> pb::FollowRequest {
    pb::FollowRequest {
        requester_id: r.requester_id.to_string(),
        target_id: r.target_id.to_string(),
        created_at: Some(timestamp(r.created_at)),
    }
}

pub(super) fn request_from(r: pb::FollowRequest) -> Result<FollowRequest> {
    Ok(FollowRequest {
        requester_id: id_from(&r.requester_id, "requester_id")?,
        target_id: id_from(&r.target_id, "target_id")?,
        created_at: r
            .created_at
            .as_ref()
            .and_then(timestamp_from)
            .ok_or_else(|| bad_response("created_at"))?,
    })
}

pub(super) fn page(p: Page<nova_core::UserId>) -> pb::UserPage {
    pb::UserPage {
        user_ids: p.items.iter().map(ToString::to_string).collect(),
        page_info: Some(common::PageInfo {
            end_cursor: p.end_cursor.unwrap_or_default(),
            has_next_page: p.has_next_page,
        }),
    }
}

pub(super) fn page_from(p: pb::UserPage) -> Result<Page<nova_core::UserId>> {
    let info = p.page_info.ok_or_else(|| bad_response("page_info"))?;
    Ok(Page {
        items: p
            .user_ids
            .iter()
            .map(|id| id_from(id, "user_ids"))
            .collect::<Result<_>>()?,
        end_cursor: (!info.end_cursor.is_empty()).then_some(info.end_cursor),
        has_next_page: info.has_next_page,
    })
}

pub(super) fn block_list(l: BlockList) -> pb::BlockList {
    pb::BlockList {
        id: l.id.to_string(),
        owner_id: l.owner_id.to_string(),
        name: l.name,
        description: l.description,
        created_at: Some(timestamp(l.created_at)),
    }
}

pub(super) fn block_list_from(l: pb::BlockList) -> Result<BlockList> {
    Ok(BlockList {
        id: id_from(&l.id, "id")?,
        owner_id: id_from(&l.owner_id, "owner_id")?,
        name: l.name,
        description: l.description,
        created_at: l
            .created_at
            .as_ref()
            .and_then(timestamp_from)
            .ok_or_else(|| bad_response("created_at"))?,
    })
}
