//! Model ↔ protobuf conversions for the users gRPC adapters.
//!
//! Requests arriving at the server are client input: a malformed value is
//! `InvalidArgument` naming the field. Responses arriving at the client come from the
//! users service itself: a malformed value there is `Internal` (a bug or version skew).

use nova_core::{Error, Result, Timestamp};
use nova_proto::nova::user::v1 as pb;

use crate::model::{
    MessagePolicy, NotificationPrefs, PrivacySettings, Profile, ProfileUpdate, Settings,
};

/// `Internal`: the users service answered something this client cannot read.
fn bad_response(field: &str) -> Error {
    Error::internal(format!(
        "users gRPC response: missing or malformed `{field}`"
    ))
}

/// A timestamp on the wire.
pub(super) fn timestamp(t: Timestamp) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

fn timestamp_from(t: Option<prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    let t = t.ok_or_else(|| bad_response(field))?;
    let nanos = u32::try_from(t.nanos).map_err(|_| bad_response(field))?;
    chrono::DateTime::from_timestamp(t.seconds, nanos).ok_or_else(|| bad_response(field))
}

/// An id from a request: `InvalidArgument` naming `field` when malformed.
pub(crate) fn id_arg<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be an id (UUID)"))
}

/// An optional id from a request: empty means none.
fn opt_id_arg<T: std::str::FromStr>(value: &str, field: &str) -> Result<Option<T>> {
    if value.is_empty() {
        Ok(None)
    } else {
        id_arg(value, field).map(Some)
    }
}

/// An id from a response.
fn id_from<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value.parse().map_err(|_| bad_response(field))
}

fn opt_id_from<T: std::str::FromStr>(value: &str, field: &str) -> Result<Option<T>> {
    if value.is_empty() {
        Ok(None)
    } else {
        id_from(value, field).map(Some)
    }
}

fn opt_string<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Many ids from a request.
pub(super) fn ids_arg<T: std::str::FromStr>(values: &[String], field: &str) -> Result<Vec<T>> {
    values.iter().map(|v| id_arg(v, field)).collect()
}

pub(super) fn profile(p: Profile) -> pb::Profile {
    pb::Profile {
        user_id: p.user_id.to_string(),
        username: p.username,
        display_name: p.display_name,
        bio: p.bio,
        avatar_id: opt_string(p.avatar),
        banner_id: opt_string(p.banner),
        links: p.links,
        pronouns: p.pronouns,
        pinned_post_id: opt_string(p.pinned_post),
        private_account: p.private_account,
        created_at: timestamp(p.created_at),
    }
}

pub(super) fn profile_from(p: pb::Profile) -> Result<Profile> {
    Ok(Profile {
        user_id: id_from(&p.user_id, "user_id")?,
        username: p.username,
        display_name: p.display_name,
        bio: p.bio,
        avatar: opt_id_from(&p.avatar_id, "avatar_id")?,
        banner: opt_id_from(&p.banner_id, "banner_id")?,
        links: p.links,
        pronouns: p.pronouns,
        pinned_post: opt_id_from(&p.pinned_post_id, "pinned_post_id")?,
        private_account: p.private_account,
        created_at: timestamp_from(p.created_at, "created_at")?,
    })
}

pub(super) fn update(u: ProfileUpdate) -> pb::UpdateProfileRequest {
    pb::UpdateProfileRequest {
        display_name: u.display_name,
        bio: u.bio,
        avatar_id: u.avatar.map(opt_string),
        banner_id: u.banner.map(opt_string),
        links: u.links.map(|links| pb::Links { links }),
        pronouns: u.pronouns,
        pinned_post_id: u.pinned_post.map(opt_string),
    }
}

pub(super) fn update_from(u: pb::UpdateProfileRequest) -> Result<ProfileUpdate> {
    Ok(ProfileUpdate {
        display_name: u.display_name,
        bio: u.bio,
        avatar: u
            .avatar_id
            .map(|v| opt_id_arg(&v, "avatar_id"))
            .transpose()?,
        banner: u
            .banner_id
            .map(|v| opt_id_arg(&v, "banner_id"))
            .transpose()?,
        links: u.links.map(|l| l.links),
        pronouns: u.pronouns,
        pinned_post: u
            .pinned_post_id
            .map(|v| opt_id_arg(&v, "pinned_post_id"))
            .transpose()?,
    })
}

fn policy(p: MessagePolicy) -> i32 {
    match p {
        MessagePolicy::Everyone => pb::MessagePolicy::Everyone as i32,
        MessagePolicy::Following => pb::MessagePolicy::Following as i32,
        MessagePolicy::Nobody => pb::MessagePolicy::Nobody as i32,
    }
}

/// Unspecified reads as the default (everyone); unknown values are rejected.
fn policy_from(value: i32) -> Option<MessagePolicy> {
    match pb::MessagePolicy::try_from(value).ok()? {
        pb::MessagePolicy::Unspecified | pb::MessagePolicy::Everyone => {
            Some(MessagePolicy::Everyone)
        }
        pb::MessagePolicy::Following => Some(MessagePolicy::Following),
        pb::MessagePolicy::Nobody => Some(MessagePolicy::Nobody),
    }
}

pub(super) fn settings(s: Settings) -> pb::Settings {
    let n = s.notifications;
    pb::Settings {
        private_account: s.private_account,
        message_policy: policy(s.message_policy),
        discoverable: s.discoverable,
        hide_follow_counts: s.hide_follow_counts,
        hide_follow_lists: s.hide_follow_lists,
        notifications: Some(pb::NotificationPrefs {
            likes: n.likes,
            replies: n.replies,
            mentions: n.mentions,
            follows: n.follows,
            reposts: n.reposts,
            direct_messages: n.direct_messages,
        }),
    }
}

/// Settings from the wire; `invalid` builds the error for a bad field (client input at
/// the server, `Internal` at the client).
fn settings_with(s: pb::Settings, invalid: fn(&str) -> Error) -> Result<Settings> {
    let n = s
        .notifications
        .ok_or_else(|| invalid("settings.notifications"))?;
    Ok(Settings {
        private_account: s.private_account,
        message_policy: policy_from(s.message_policy)
            .ok_or_else(|| invalid("settings.message_policy"))?,
        discoverable: s.discoverable,
        hide_follow_counts: s.hide_follow_counts,
        hide_follow_lists: s.hide_follow_lists,
        notifications: NotificationPrefs {
            likes: n.likes,
            replies: n.replies,
            mentions: n.mentions,
            follows: n.follows,
            reposts: n.reposts,
            direct_messages: n.direct_messages,
        },
    })
}

pub(super) fn settings_arg(s: Option<pb::Settings>) -> Result<Settings> {
    let invalid = |f: &str| Error::invalid(f, "is required");
    settings_with(s.ok_or_else(|| invalid("settings"))?, invalid)
}

pub(super) fn settings_from(s: pb::Settings) -> Result<Settings> {
    settings_with(s, bad_response)
}

pub(super) fn privacy(p: PrivacySettings) -> pb::PrivacySettings {
    pb::PrivacySettings {
        user_id: p.user_id.to_string(),
        private_account: p.private_account,
        message_policy: policy(p.message_policy),
        discoverable: p.discoverable,
        hide_follow_counts: p.hide_follow_counts,
        hide_follow_lists: p.hide_follow_lists,
    }
}

pub(super) fn privacy_from(p: pb::PrivacySettings) -> Result<PrivacySettings> {
    Ok(PrivacySettings {
        user_id: id_from(&p.user_id, "user_id")?,
        private_account: p.private_account,
        message_policy: policy_from(p.message_policy)
            .ok_or_else(|| bad_response("message_policy"))?,
        discoverable: p.discoverable,
        hide_follow_counts: p.hide_follow_counts,
        hide_follow_lists: p.hide_follow_lists,
    })
}
