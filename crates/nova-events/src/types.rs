//! The event type names (`EventEnvelope::event_type`) that cross domain boundaries:
//! the publishing domain and every consumer name them from here, so a rename cannot
//! leave a consumer matching a string nobody sends any more. Payloads are the
//! `nova-proto` messages named on each.

/// A post was created (`nova.content.v1.PostCreated`).
pub const POST_CREATED: &str = "post.created";
/// A reply was created; published next to its `post.created` (`PostCreated`).
pub const COMMENT_CREATED: &str = "comment.created";
/// A post's text was edited (`nova.content.v1.PostEdited`).
pub const POST_EDITED: &str = "post.edited";
/// A post was deleted (`nova.content.v1.PostDeleted`).
pub const POST_DELETED: &str = "post.deleted";
/// A like was given (`nova.content.v1.LikeChanged`).
pub const LIKE_CREATED: &str = "like.created";
/// A like was taken back (`nova.content.v1.LikeChanged`).
pub const LIKE_REMOVED: &str = "like.removed";
/// A repost was made (`nova.social.v1.RepostChanged`).
pub const REPOST_CREATED: &str = "repost.created";
/// A repost was undone (`nova.social.v1.RepostChanged`).
pub const REPOST_REMOVED: &str = "repost.removed";
/// `follower` followed `followee` (`nova.graph.v1.FollowCreated`).
pub const FOLLOW_CREATED: &str = "follow.created";
/// A follow edge was removed (`nova.graph.v1.FollowRemoved`, reason `unfollow` or `block`).
pub const FOLLOW_REMOVED: &str = "follow.removed";
/// A block was created (`nova.graph.v1.BlockCreated`).
pub const BLOCK_CREATED: &str = "block.created";
/// A block was removed (`nova.graph.v1.BlockRemoved`).
pub const BLOCK_REMOVED: &str = "block.removed";
/// A mute was created or changed (`nova.graph.v1.MuteCreated`).
pub const MUTE_CREATED: &str = "mute.created";
/// A mute was removed (`nova.graph.v1.MuteRemoved`).
pub const MUTE_REMOVED: &str = "mute.removed";
/// A session ended — logout, logout everywhere (one event per session), password change
/// or reset, refresh-token reuse (`nova.identity.v1.SessionRevoked`: session and user id).
/// Every token verifier refuses the session's access tokens from then on.
pub const SESSION_REVOKED: &str = "session.revoked";
/// An account was registered (`nova.identity.v1.UserRegistered`).
pub const USER_REGISTERED: &str = "user.registered";
/// A staff role (`moderator`, `admin`) was granted or revoked
/// (`nova.identity.v1.RoleChanged`); trust & safety audits it.
pub const ROLE_CHANGED: &str = "identity.role_changed";
/// A moderator took an action (`nova.trustsafety.v1.ActionChanged`); the domains that
/// enforce it (identity: suspensions) act on it.
pub const MODERATION_ACTION_TAKEN: &str = "trust_safety.action_taken";
/// An action was undone, by reversal or a granted appeal (`nova.trustsafety.v1.ActionChanged`).
pub const MODERATION_ACTION_REVERSED: &str = "trust_safety.action_reversed";
/// A profile or its settings changed (`nova.user.v1.ProfileUpdated`).
pub const PROFILE_UPDATED: &str = "user.profile_updated";
/// A username changed (`nova.user.v1.UsernameChanged`).
pub const USERNAME_CHANGED: &str = "user.username_changed";
/// An account was deactivated, reactivated or deleted (`nova.user.v1.AccountStateChanged`,
/// `state` = `deactivated` | `reactivated` | `deleted`).
pub const USER_STATE_CHANGED: &str = "user.state_changed";
/// Someone asked to follow a private account (`nova.social.v1.FollowRequestChanged`,
/// state `created`).
pub const FOLLOW_REQUEST_CREATED: &str = "follow_request.created";
/// A follow request was approved; graph's `follow.created` follows it.
pub const FOLLOW_REQUEST_APPROVED: &str = "follow_request.approved";
/// A follow request was denied.
pub const FOLLOW_REQUEST_DENIED: &str = "follow_request.denied";
/// A follow request was withdrawn by its requester.
pub const FOLLOW_REQUEST_CANCELLED: &str = "follow_request.cancelled";
/// A chat conversation was created (`nova.chat.v1.ConversationCreated`).
pub const CHAT_CONVERSATION_CREATED: &str = "chat.conversation_created";
/// A chat conversation's members changed (`nova.chat.v1.MembersChanged`).
pub const CHAT_MEMBERS_CHANGED: &str = "chat.members_changed";
/// An end-to-end encrypted message was stored; metadata only (`nova.chat.v1.MessageSent`).
pub const CHAT_MESSAGE_SENT: &str = "chat.message_sent";
/// A call rang in a chat conversation (`nova.chat.v1.CallStarted`).
pub const CHAT_CALL_STARTED: &str = "chat.call_started";
/// A chat call ended: completed, missed, declined, busy or cancelled (`nova.chat.v1.CallEnded`).
pub const CHAT_CALL_ENDED: &str = "chat.call_ended";
/// A live location share began; the session only (`nova.chat.v1.LocationShareStarted`).
pub const CHAT_LOCATION_SHARE_STARTED: &str = "chat.location_share_started";
