//! Plain notification types.

use nova_core::{Error, Result, Timestamp, UserId};
use serde::{Deserialize, Serialize};

nova_core::define_id!(
    /// One grouped notification (the group, not one actor's event).
    NotificationId
);

/// Largest page [`list`](crate::NotificationApi::list) returns; larger `first` values are
/// capped to it.
pub const MAX_PAGE: u32 = 100;
/// How `first = 0` is read.
pub const DEFAULT_PAGE: u32 = 20;
/// Actors listed per group (newest first); `count` says how many there are in all.
pub const LATEST_ACTORS: usize = 3;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Someone liked the recipient's post.
    Like,
    /// Someone replied to the recipient's post.
    Reply,
    /// Someone mentioned the recipient in a post.
    Mention,
    /// Someone followed the recipient.
    Follow,
    /// Someone asked to follow the recipient (a private account).
    FollowRequest,
    /// Someone reposted the recipient's post.
    Repost,
    /// Someone quoted the recipient's post.
    Quote,
    /// A direct message (source: the chat domain, later).
    Dm,
    /// A missed call (source: calls, later).
    CallMissed,
    /// A moderation outcome (source: trust & safety, later).
    Moderation,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 10] = [
        Self::Like,
        Self::Reply,
        Self::Mention,
        Self::Follow,
        Self::FollowRequest,
        Self::Repost,
        Self::Quote,
        Self::Dm,
        Self::CallMissed,
        Self::Moderation,
    ];

    /// The stored and wire name (`like`, `follow_request`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Reply => "reply",
            Self::Mention => "mention",
            Self::Follow => "follow",
            Self::FollowRequest => "follow_request",
            Self::Repost => "repost",
            Self::Quote => "quote",
            Self::Dm => "dm",
            Self::CallMissed => "call_missed",
            Self::Moderation => "moderation",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| Error::invalid("kind", format!("unknown notification kind {value:?}")))
    }
}

/// Where a notification lands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    /// The notifications list.
    #[default]
    Inbox,
    /// Filtered by the recipient's [`Policy`]: kept, not shown in the inbox.
    Requests,
}

impl Folder {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Requests => "requests",
        }
    }

    /// Parses a request's `folder` (empty means the inbox).
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "" | "inbox" => Ok(Self::Inbox),
            "requests" => Ok(Self::Requests),
            _ => Err(Error::invalid("folder", "must be inbox or requests")),
        }
    }
}

/// One actor of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Who.
    pub user_id: UserId,
    /// Their own post (the reply, the quote, the mentioning post), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject_id: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A grouped notification: "ada and 5 others liked your post".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The group's id.
    pub id: NotificationId,
    /// Whose.
    pub recipient_id: UserId,
    /// What happened.
    pub kind: NotificationKind,
    /// The post it is about (`None` for follows and follow requests).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_id: Option<String>,
    /// Inbox or requests.
    pub folder: Folder,
    /// How many accounts are in the group.
    pub count: u64,
    /// The latest [`LATEST_ACTORS`], newest first.
    pub actors: Vec<Actor>,
    /// Not read yet (a new actor makes a read group unread again).
    pub unread: bool,
    /// When the group started.
    pub created_at: Timestamp,
    /// The newest activity in it (pages are ordered by it).
    pub updated_at: Timestamp,
}

/// Which notifications to mark read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkRead {
    /// One notification.
    One(NotificationId),
    /// This notification and every older one in its folder (a read marker).
    UpTo(NotificationId),
    /// Everything in the folder.
    All,
}

/// A user's notification filters (Mastodon's notification policy). Filtered
/// notifications go to [`Folder::Requests`] instead of being dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// From accounts the user does not follow.
    #[serde(default)]
    pub filter_not_following: bool,
}

/// How a recipient stands towards an actor, as the social domain answers it
/// ([`Relations`](crate::Relations)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The actor's account exists and no block separates the two, either way.
    pub may_notify: bool,
    /// The recipient mutes the actor.
    pub muted: bool,
    /// That mute hides only the actor's reposts.
    pub muted_reposts_only: bool,
    /// The recipient follows the actor.
    pub follows: bool,
}

impl Standing {
    /// Whether an activity of `kind` from this actor may reach the recipient at all.
    pub fn allows(&self, kind: NotificationKind) -> bool {
        let muted = self.muted && (!self.muted_reposts_only || kind == NotificationKind::Repost);
        self.may_notify && !muted
    }
}
