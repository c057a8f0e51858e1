//! The chat API, implemented in-process by [`ChatService`](crate::ChatService).

use async_trait::async_trait;
use futures::stream::BoxStream;
use nova_core::{Principal, Result, Timestamp, UserId};
use nova_e2ee::DeviceId;

use crate::model::{
    Call, CallId, Conversation, ConversationId, Delivery, DmPolicy, HistoryItem, LiveEvent,
    LocationShare, LocationShareId, LocationUpdate, Members, NewMessage, Role, Sent, SignalKind,
    TurnCredentials,
};

/// End-to-end encrypted conversations.
///
/// Every method acts for the caller: a conversation the caller is not in answers
/// `NotFound` exactly like a missing one, and so does a user the caller may not message
/// (blocked either way, or their DM setting refuses the caller).
#[async_trait]
pub trait ChatApi: CallApi + Send + Sync {
    /// The direct conversation with `other` (created on first use; one per pair).
    async fn open_direct(&self, principal: &Principal, other: UserId) -> Result<Conversation>;
    /// A new group of the caller (owner) and `members`, titled `title`.
    async fn create_group(
        &self,
        principal: &Principal,
        title: &str,
        members: &[UserId],
    ) -> Result<Conversation>;
    /// One of the caller's conversations.
    async fn conversation(&self, principal: &Principal, id: ConversationId)
    -> Result<Conversation>;
    /// The caller's conversations, newest activity first; archived ones only when
    /// `archived` (and then only those).
    async fn conversations(
        &self,
        principal: &Principal,
        archived: bool,
        first: u32,
    ) -> Result<Vec<Conversation>>;
    /// The members and member version.
    async fn members(&self, principal: &Principal, id: ConversationId) -> Result<Members>;
    /// Adds `users` to a group (any member may invite).
    async fn invite(
        &self,
        principal: &Principal,
        id: ConversationId,
        users: &[UserId],
    ) -> Result<Members>;
    /// Removes `user` from a group (admins and the owner; never the owner).
    async fn kick(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
    ) -> Result<Members>;
    /// The caller leaves a group (an owner leaving hands the group to the oldest admin,
    /// else the oldest member).
    async fn leave(&self, principal: &Principal, id: ConversationId) -> Result<()>;
    /// Changes a member's role (the owner only; `Owner` transfers ownership).
    async fn set_role(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
        role: Role,
    ) -> Result<Members>;
    /// Renames a group and sets its avatar (admins and the owner).
    async fn update_group(
        &self,
        principal: &Principal,
        id: ConversationId,
        title: &str,
        avatar_media_id: &str,
    ) -> Result<Conversation>;
    /// Stores an encrypted message for its recipient devices (members only).
    async fn send(
        &self,
        principal: &Principal,
        id: ConversationId,
        message: NewMessage,
    ) -> Result<Sent>;
    /// Messages before `before` (message id; `None` for the newest), newest first, with
    /// the envelopes the caller's `device` can open.
    async fn history(
        &self,
        principal: &Principal,
        id: ConversationId,
        device: &DeviceId,
        before: Option<i64>,
        first: u32,
    ) -> Result<Vec<HistoryItem>>;
    /// The caller's `device`'s undelivered envelopes after `after` (its sequence).
    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Acknowledges the caller's `device`'s envelopes up to `up_to`: they leave its
    /// queue; senders learn the delivery receipt. Answers how many left.
    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64>;
    /// The last sequence the caller's `device` acknowledged (where a reconnect resumes).
    async fn acknowledged(&self, principal: &Principal, device: &DeviceId) -> Result<i64>;
    /// Marks the conversation read up to `message_id` (read receipt).
    async fn mark_read(
        &self,
        principal: &Principal,
        id: ConversationId,
        message_id: i64,
    ) -> Result<()>;
    /// Archives or unarchives for the caller; `keep_archived` keeps it archived when new
    /// messages arrive.
    async fn set_archived(
        &self,
        principal: &Principal,
        id: ConversationId,
        archived: bool,
        keep_archived: bool,
    ) -> Result<Conversation>;
    /// Mutes for the caller until `until` (`None` unmutes).
    async fn mute(
        &self,
        principal: &Principal,
        id: ConversationId,
        until: Option<Timestamp>,
    ) -> Result<Conversation>;
    /// The caller's DM setting.
    async fn dm_policy(&self, principal: &Principal) -> Result<DmPolicy>;
    /// Replaces the caller's DM setting.
    async fn set_dm_policy(&self, principal: &Principal, policy: DmPolicy) -> Result<DmPolicy>;
    /// Tells the other members the caller is typing (ephemeral).
    async fn typing(&self, principal: &Principal, id: ConversationId) -> Result<()>;
    /// Live events for the caller's `device`, from now on (deliveries may repeat what an
    /// inbox read returned: dedupe by `seq`).
    async fn subscribe(
        &self,
        principal: &Principal,
        device: &DeviceId,
    ) -> Result<BoxStream<'static, LiveEvent>>;
}

/// Calls and live location sharing in conversations (part of every [`ChatApi`]).
///
/// Only members start or answer a call, and a call or share the caller may not see
/// answers `NotFound` like a missing one. A blocked pair can neither call nor share in
/// their direct conversation; in groups, nobody who blocked the caller (or whom the
/// caller blocked) is rung, signaled or sent locations.
#[async_trait]
pub trait CallApi: Send + Sync {
    /// Rings the conversation's other members from the caller's `device` (the caller is
    /// joined). Members already in another call are `busy`; when everybody rung is, the
    /// call ends at once (`busy`). `Conflict` when the conversation has a call already, or
    /// the caller is in another one.
    async fn start_call(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        device: &DeviceId,
        video: bool,
    ) -> Result<Call>;
    /// A call the caller was rung for or started.
    async fn call(&self, principal: &Principal, id: CallId) -> Result<Call>;
    /// Joins the call from `device` (signaling for the caller goes there). `Conflict` when
    /// it ended, is full, or the caller is in another call.
    async fn accept_call(
        &self,
        principal: &Principal,
        id: CallId,
        device: &DeviceId,
    ) -> Result<Call>;
    /// Declines a call that rings for the caller.
    async fn decline_call(&self, principal: &Principal, id: CallId) -> Result<Call>;
    /// Leaves the call (declines it while it rings). The call ends when fewer than two
    /// remain; a caller hanging up before anyone answered cancels it.
    async fn hang_up(&self, principal: &Principal, id: CallId) -> Result<Call>;
    /// Relays an SDP offer/answer or ICE candidate to the device `to` joined with; the
    /// payload is opaque (at most [`MAX_SIGNAL_BYTES`](crate::model::MAX_SIGNAL_BYTES)).
    async fn signal(
        &self,
        principal: &Principal,
        id: CallId,
        to: UserId,
        kind: SignalKind,
        payload: String,
    ) -> Result<()>;
    /// Short-lived TURN credentials for the caller (coturn REST API).
    async fn turn_credentials(&self, principal: &Principal) -> Result<TurnCredentials>;
    /// Starts sharing the caller's live location to a conversation for `duration_secs`
    /// (900, 3600 or 28800).
    async fn start_location_share(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        duration_secs: u32,
    ) -> Result<LocationShare>;
    /// The conversation's shares still running.
    async fn location_shares(
        &self,
        principal: &Principal,
        conversation: ConversationId,
    ) -> Result<Vec<LocationShare>>;
    /// Stops one of the caller's shares (stopping an ended one answers it as it is).
    async fn stop_location_share(
        &self,
        principal: &Principal,
        id: LocationShareId,
    ) -> Result<LocationShare>;
    /// Relays an encrypted location update of a running share to its recipients' devices
    /// (never stored). One per 5 s per share (`RateLimited`); after the share ended,
    /// `Conflict` and nothing is relayed.
    async fn update_location(
        &self,
        principal: &Principal,
        id: LocationShareId,
        update: LocationUpdate,
    ) -> Result<()>;
}
