//! Profiles, settings and account states.

use nova_core::{MediaId, PostId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user.
    pub user_id: UserId,
    /// Current username.
    pub username: String,
    /// Display name (≤ 50 graphemes).
    pub display_name: String,
    /// Bio (≤ 500 graphemes).
    pub bio: String,
    /// Avatar image.
    pub avatar: Option<MediaId>,
    /// Banner image.
    pub banner: Option<MediaId>,
    /// Up to 5 http(s) links.
    pub links: Vec<String>,
    /// Pronouns (≤ 40 graphemes).
    pub pronouns: String,
    /// The post pinned to the top of the profile.
    pub pinned_post: Option<PostId>,
    /// Whether followers need approval.
    pub private_account: bool,
    /// Account created.
    pub created_at: Timestamp,
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New avatar (`Some(None)` removes it).
    pub avatar: Option<Option<MediaId>>,
    /// New banner (`Some(None)` removes it).
    pub banner: Option<Option<MediaId>>,
    /// New links.
    pub links: Option<Vec<String>>,
    /// New pronouns.
    pub pronouns: Option<String>,
    /// New pinned post (`Some(None)` unpins).
    pub pinned_post: Option<Option<PostId>>,
}

/// Who may send a direct message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MessagePolicy {
    /// Anyone not blocked.
    #[default]
    Everyone,
    /// Only accounts I follow.
    Following,
    /// Nobody.
    Nobody,
}

impl MessagePolicy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MessagePolicy::Everyone => "everyone",
            MessagePolicy::Following => "following",
            MessagePolicy::Nobody => "nobody",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "following" => MessagePolicy::Following,
            "nobody" => MessagePolicy::Nobody,
            _ => MessagePolicy::Everyone,
        }
    }
}

/// Which notifications a user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPrefs {
    /// Someone liked my post.
    pub likes: bool,
    /// Someone replied.
    pub replies: bool,
    /// Someone mentioned me.
    pub mentions: bool,
    /// Someone followed me (or asked to).
    pub follows: bool,
    /// Someone reposted my post.
    pub reposts: bool,
    /// A direct message arrived.
    pub direct_messages: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            likes: true,
            replies: true,
            mentions: true,
            follows: true,
            reposts: true,
            direct_messages: true,
        }
    }
}

/// A user's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Followers need approval; posts and lists are for approved followers only.
    pub private_account: bool,
    /// Who may message me.
    pub message_policy: MessagePolicy,
    /// Whether I appear in search and suggestions.
    #[serde(default = "yes")]
    pub discoverable: bool,
    /// Hide my follower/following counts from others.
    pub hide_follow_counts: bool,
    /// Hide my follower/following lists from others.
    pub hide_follow_lists: bool,
    /// Notification preferences.
    pub notifications: NotificationPrefs,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            private_account: false,
            message_policy: MessagePolicy::Everyone,
            discoverable: true,
            hide_follow_counts: false,
            hide_follow_lists: false,
            notifications: NotificationPrefs::default(),
        }
    }
}

/// Settings other domains consult (social, content, chat), without the private parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// The user.
    pub user_id: UserId,
    /// Followers need approval.
    pub private_account: bool,
    /// Who may message.
    pub message_policy: MessagePolicy,
    /// Appears in search and suggestions.
    pub discoverable: bool,
    /// Counts hidden from others.
    pub hide_follow_counts: bool,
    /// Lists hidden from others.
    pub hide_follow_lists: bool,
}

/// Who ended an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeletedBy {
    /// The owner.
    User,
    /// A moderator.
    Moderator(UserId),
}
