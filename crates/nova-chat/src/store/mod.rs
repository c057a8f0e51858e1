//! The chat Store port and its SQL adapter ([`SqlChatStore`], one set of queries for
//! PostgreSQL and SQLite through [`nova_db::on_db!`]). The conformance suite in
//! `tests/chat.rs` runs on both.

mod calls;
mod sql;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_e2ee::DeviceAddress;

pub use sql::SqlChatStore;

use crate::model::{
    Call, CallId, Conversation, ConversationId, ConversationKind, Delivery, DmPolicy, HistoryItem,
    LocationShare, LocationShareId, Members, NewMessage, Role, Sent,
};

/// A conversation to create.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Its id (unused when a direct conversation of the pair exists).
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// For direct conversations, the pair's key (one conversation per pair).
    pub direct_key: Option<String>,
    /// Group title.
    pub title: String,
    /// Creator.
    pub created_by: UserId,
    /// Members and their roles (the creator included).
    pub members: Vec<(UserId, Role)>,
}

/// A stored message and the envelopes it put in device queues.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The outcome.
    pub sent: Sent,
    /// Each recipient device's new queue entries (empty for a duplicate).
    pub deliveries: Vec<(DeviceAddress, Delivery)>,
}

/// A membership change: the new version, or `None` when nothing changed.
pub type Version = Option<i64>;

/// Chat storage. Every method is one transaction.
#[async_trait]
pub trait ChatStore: CallStore + Send + Sync {
    /// Creates a conversation with its members (and its outbox event); a direct one whose
    /// pair already has a conversation is not created again. Answers the conversation's
    /// id and whether it was created.
    async fn create(&self, new: &NewConversation, now: Timestamp)
    -> Result<(ConversationId, bool)>;
    /// The direct conversation of the pair `key`, if any.
    async fn direct(&self, key: &str) -> Result<Option<ConversationId>>;
    /// The conversation as `viewer` (a member) sees it; `None` when missing or not a member.
    async fn conversation(
        &self,
        id: ConversationId,
        viewer: UserId,
    ) -> Result<Option<Conversation>>;
    /// `viewer`'s conversations, archived or not, newest activity first.
    async fn conversations(
        &self,
        viewer: UserId,
        archived: bool,
        limit: u32,
    ) -> Result<Vec<Conversation>>;
    /// The members at the current version.
    async fn members(&self, id: ConversationId) -> Result<Option<Members>>;
    /// Adds members (as `Member`) unless the group would exceed `max`
    /// (`InvalidArgument` naming `user_ids`); users already in are skipped.
    async fn add_members(
        &self,
        id: ConversationId,
        users: &[UserId],
        actor: UserId,
        max: usize,
        now: Timestamp,
    ) -> Result<Version>;
    /// Removes a member; the oldest admin (else member) becomes owner when the owner left.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: UserId,
        actor: UserId,
        now: Timestamp,
    ) -> Result<Version>;
    /// Sets a member's role; making someone `Owner` turns the current owner into an admin.
    async fn set_role(
        &self,
        id: ConversationId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: Timestamp,
    ) -> Result<Version>;
    /// Sets title and avatar.
    async fn update_group(
        &self,
        id: ConversationId,
        title: &str,
        avatar_media_id: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// Stores a message from `sender` unless `sender` already sent `idempotency_key`
    /// (then answers that message, `duplicate`). `targets[i]` are the devices that get
    /// envelope `i` (a subset of its recipients); each device's entries take its next
    /// sequence numbers. Unarchives the conversation for members who did not choose to
    /// keep it archived. Writes `chat.message_sent`.
    async fn insert_message(
        &self,
        id: ConversationId,
        sender: UserId,
        message: &NewMessage,
        targets: &[Vec<DeviceAddress>],
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Stored>;
    /// Messages of the conversation before `before`, newest first, with the Megolm
    /// envelopes and the Olm envelopes addressed to `device`.
    async fn history(
        &self,
        id: ConversationId,
        device: &DeviceAddress,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>>;
    /// `device`'s unexpired queue entries after `after`, in sequence order.
    async fn inbox(
        &self,
        device: &DeviceAddress,
        after: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Delivery>>;
    /// Drops `device`'s entries up to `up_to`, records the position and moves the
    /// member's delivery receipt; answers how many entries left and each conversation's
    /// newest delivered message.
    async fn acknowledge(
        &self,
        device: &DeviceAddress,
        up_to: i64,
    ) -> Result<(u64, Vec<(ConversationId, i64)>)>;
    /// The last position `device` acknowledged (0 when never).
    async fn acknowledged(&self, device: &DeviceAddress) -> Result<i64>;
    /// Moves `user`'s read position forward to `message_id`; `false` when not a member.
    async fn mark_read(&self, id: ConversationId, user: UserId, message_id: i64) -> Result<bool>;
    /// Archive state for `user`; `false` when not a member.
    async fn set_archived(
        &self,
        id: ConversationId,
        user: UserId,
        archived: bool,
        keep_archived: bool,
    ) -> Result<bool>;
    /// Mute for `user`; `false` when not a member.
    async fn mute(
        &self,
        id: ConversationId,
        user: UserId,
        until: Option<Timestamp>,
    ) -> Result<bool>;
    /// DM settings of `users`, in order (the default when unset).
    async fn dm_policies(&self, users: &[UserId]) -> Result<Vec<DmPolicy>>;
    /// Stores `user`'s DM setting.
    async fn set_dm_policy(&self, user: UserId, policy: DmPolicy, now: Timestamp) -> Result<()>;
    /// Deletes queue entries that expired before `now` (and messages nobody can fetch any
    /// more are kept for history); answers how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64>;
}

/// Calls (seed migration 110) and location shares (111). Every method is one
/// transaction. The rules (who may ring, accept, what ends a call) are the service's; the
/// store keeps the state and guards it with a version.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// Stores a new call and its participants, with `chat.call_started` (and
    /// `chat.call_ended` when it was born ended: everybody rung was busy). `Conflict` when
    /// the conversation already has a call that has not ended.
    async fn insert_call(&self, call: &Call) -> Result<()>;
    /// The call, participants included; `None` when missing.
    async fn call(&self, id: CallId) -> Result<Option<Call>>;
    /// The conversation's call that has not ended, if any.
    async fn open_call(&self, conversation: ConversationId) -> Result<Option<Call>>;
    /// Writes `call` (status, times, every participant) when the stored version is still
    /// `expected`; `false` (nothing written) when another change came first. Writes
    /// `chat.call_ended` when the call ends with this change.
    async fn update_call(&self, call: &Call, expected: i64) -> Result<bool>;
    /// Those of `users` joined in a call that has not ended, other than `except`.
    async fn busy(&self, users: &[UserId], except: Option<CallId>) -> Result<Vec<UserId>>;
    /// Calls not ended whose ring timeout passed at `now` with someone still ringing (at
    /// most `limit`).
    async fn due_calls(&self, now: Timestamp, limit: u32) -> Result<Vec<CallId>>;
    /// Stores a new location share, with `chat.location_share_started`.
    async fn insert_share(&self, share: &LocationShare) -> Result<()>;
    /// The share; `None` when missing.
    async fn share(&self, id: LocationShareId) -> Result<Option<LocationShare>>;
    /// The conversation's shares still running at `now`, oldest first.
    async fn active_shares(
        &self,
        conversation: ConversationId,
        now: Timestamp,
    ) -> Result<Vec<LocationShare>>;
    /// Stops the share at `now` if it is still running; `false` when it was not.
    async fn stop_share(&self, id: LocationShareId, now: Timestamp) -> Result<bool>;
}
