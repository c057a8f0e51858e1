//! [`ChatService`]: the rules of chat (membership, roles, who may message whom, message
//! validation, send limits) over the [`ChatStore`], the [`ChatRelations`] port, a rate
//! limiter and pub/sub for live delivery. Calls and location sharing: `service/calls.rs`.

mod calls;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use futures::StreamExt;
use futures::stream::BoxStream;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, Timestamp, UserId};
use nova_e2ee::{DeviceAddress, DeviceId, OutgoingMessage};
use nova_kv::{InProcessPubSub, InProcessRateLimiter, PubSub, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::api::ChatApi;
use crate::config::CallSettings;
use crate::model::{
    Conversation, ConversationId, ConversationKind, Delivery, DmPolicy, Envelope, HistoryItem,
    LiveEvent, MAX_CIPHERTEXT_BYTES, MAX_ENVELOPES, MAX_GROUP_MEMBERS, MAX_IDEMPOTENCY_KEY,
    MAX_INBOX_PAGE, MAX_PAGE, MAX_TITLE_CHARS, Members, NewMessage, ReceiptKind, Role, Sent,
};
use crate::ports::{ChatRelations, Reach};
use crate::store::{ChatStore, NewConversation};

/// Limits of the chat service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatLimits {
    /// Messages one user may send (a bucket: bursts up to the limit, refilled over the
    /// period).
    pub send: Quota,
    /// Most members of a group.
    pub max_group_members: usize,
    /// How long an undelivered envelope waits in a device's queue.
    pub inbox_ttl: Duration,
}

impl Default for ChatLimits {
    fn default() -> Self {
        Self {
            send: Quota::per_minute(60),
            max_group_members: MAX_GROUP_MEMBERS,
            inbox_ttl: Duration::days(30),
        }
    }
}

/// The pub/sub channel of `user`'s live chat events (every device of the user listens).
pub fn channel(user: UserId) -> String {
    format!("chat:user:{user}")
}

/// One live event on a user's channel, for one device or all of them.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<DeviceId>,
    event: LiveEvent,
}

/// The chat domain.
pub struct ChatService {
    store: Arc<dyn ChatStore>,
    relations: Arc<dyn ChatRelations>,
    pubsub: Arc<dyn PubSub>,
    limiter: Arc<dyn RateLimiter>,
    clock: SharedClock,
    limits: ChatLimits,
    calls: CallSettings,
}

fn not_found() -> Error {
    Error::from_kind(ErrorKind::NotFound)
}

/// The key of a direct conversation: the pair, lower id first.
fn direct_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.as_uuid() <= b.as_uuid() {
        (a, b)
    } else {
        (b, a)
    };
    format!("{lo}:{hi}")
}

fn page(first: u32, default: u32, max: u32) -> u32 {
    if first == 0 { default } else { first.min(max) }
}

impl ChatService {
    /// Over `store`, asking `relations` about blocks and follows; live events in this
    /// process and send limits counted here (see the `with_*` methods for shared ones).
    pub fn new(store: Arc<dyn ChatStore>, relations: Arc<dyn ChatRelations>) -> Self {
        Self {
            store,
            relations,
            pubsub: Arc::new(InProcessPubSub::default()),
            limiter: Arc::new(InProcessRateLimiter::new(SystemClock::shared())),
            clock: SystemClock::shared(),
            limits: ChatLimits::default(),
            calls: CallSettings::default(),
        }
    }

    /// Replaces the call and location-sharing settings (ring timeout, call size, TURN).
    pub fn with_calls(mut self, settings: CallSettings) -> Self {
        self.calls = settings;
        self
    }

    /// Publishes live events on `pubsub` (Redis across replicas).
    pub fn with_pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = pubsub;
        self
    }

    /// Counts sends with `limiter` (Redis across replicas).
    pub fn with_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: ChatLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Deletes queue entries older than the inbox lifetime; answers how many.
    pub async fn purge_expired(&self) -> Result<u64> {
        self.store.purge_expired(self.clock.now()).await
    }

    async fn member_of(&self, principal: &Principal, id: ConversationId) -> Result<Conversation> {
        self.store
            .conversation(id, principal.user_id)
            .await?
            .ok_or_else(not_found)
    }

    async fn group_of(&self, principal: &Principal, id: ConversationId) -> Result<Conversation> {
        let conversation = self.member_of(principal, id).await?;
        if conversation.kind != ConversationKind::Group {
            return Err(Error::invalid("conversation_id", "not a group"));
        }
        Ok(conversation)
    }

    /// `NotFound` unless `actor` may start a conversation with (or add to a group) each
    /// of `others`: the account exists, no block either way, and their DM setting lets
    /// `actor` in.
    /// Refuses an account moderation keeps from writing (suspended or deleted).
    async fn check_standing(&self, actor: UserId) -> Result<()> {
        match self.relations.may_write(actor).await? {
            true => Ok(()),
            false => Err(Error::new(
                ErrorKind::PermissionDenied,
                "your account is suspended",
            )),
        }
    }

    async fn check_contact(&self, actor: UserId, others: &[UserId]) -> Result<()> {
        if others.is_empty() {
            return Ok(());
        }
        let reach = self.relations.reach(actor, others).await?;
        let policies = self.store.dm_policies(others).await?;
        if reach.len() != others.len() || policies.len() != others.len() {
            return Err(Error::internal("relations answered for other users"));
        }
        for (r, policy) in reach.iter().zip(policies) {
            let allowed = r.exists
                && r.can_interact
                && match policy {
                    DmPolicy::Everyone => true,
                    DmPolicy::Following => r.follows_actor,
                    DmPolicy::Nobody => false,
                };
            if !allowed {
                return Err(not_found());
            }
        }
        Ok(())
    }

    async fn publish(&self, user: UserId, events: Vec<Wire>) {
        if events.is_empty() {
            return;
        }
        match serde_json::to_vec(&events) {
            Ok(payload) => {
                if let Err(e) = self.pubsub.publish(&channel(user), payload).await {
                    // Stored deliveries are not lost: the device reads them on resume.
                    tracing::warn!(error = %e, "chat: live publish failed");
                }
            }
            Err(e) => tracing::error!(error = %e, "chat: live event not encodable"),
        }
    }

    /// `event` to every device of every member but `except`.
    async fn tell_members(&self, id: ConversationId, except: Option<UserId>, event: LiveEvent) {
        let members = match self.store.members(id).await {
            Ok(Some(m)) => m,
            _ => return,
        };
        for m in members.members.iter().filter(|m| Some(m.user_id) != except) {
            let wire = Wire {
                device: None,
                event: event.clone(),
            };
            self.publish(m.user_id, vec![wire]).await;
        }
    }

    async fn members_changed(
        &self,
        id: ConversationId,
        version: Option<i64>,
        gone: Option<UserId>,
    ) {
        if let Some(version) = version {
            let event = LiveEvent::Members {
                conversation_id: id,
                version,
            };
            if let Some(user) = gone {
                let wire = Wire {
                    device: None,
                    event: event.clone(),
                };
                self.publish(user, vec![wire]).await;
            }
            self.tell_members(id, None, event).await;
        }
    }

    fn validate_message(message: &NewMessage) -> Result<()> {
        let key = &message.idempotency_key;
        if key.is_empty()
            || key.len() > MAX_IDEMPOTENCY_KEY
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::invalid(
                "idempotency_key",
                format!("must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters"),
            ));
        }
        validate_envelopes(
            &message.sender_device,
            &message.envelopes,
            MAX_ENVELOPES,
            MAX_CIPHERTEXT_BYTES,
        )
    }
}

/// Checks envelopes from `sender_device`: 1 to `max` of them (400 on `envelopes`), each
/// ciphertext at most `max_bytes` (413, checked first: an oversize ciphertext is a 413
/// whatever else is wrong), each well formed for nova-e2ee (400 naming
/// `envelopes[i].<field>`).
pub(crate) fn validate_envelopes(
    sender_device: &DeviceId,
    envelopes: &[Envelope],
    max: usize,
    max_bytes: usize,
) -> Result<()> {
    if envelopes.is_empty() || envelopes.len() > max {
        return Err(Error::invalid(
            "envelopes",
            format!("must hold 1-{max} envelopes"),
        ));
    }
    for (i, env) in envelopes.iter().enumerate() {
        if env.ciphertext.len() > max_bytes {
            return Err(Error::new(
                ErrorKind::PayloadTooLarge,
                format!("envelopes[{i}].ciphertext: at most {max_bytes} bytes"),
            ));
        }
    }
    for (i, env) in envelopes.iter().enumerate() {
        let shape = OutgoingMessage {
            sender_device: sender_device.clone(),
            algorithm: env.algorithm,
            session_id: env.session_id.clone(),
            ciphertext: env.ciphertext.clone(),
            recipients: env.recipients.clone(),
        };
        nova_e2ee::validate::validate_message(&shape).map_err(|e| {
            let field = e.field().unwrap_or("envelope").to_owned();
            Error::invalid(format!("envelopes[{i}].{field}"), e.message())
        })?;
    }
    Ok(())
}

#[async_trait]
impl ChatApi for ChatService {
    async fn open_direct(&self, principal: &Principal, other: UserId) -> Result<Conversation> {
        principal.require_scope("write")?;
        let me = principal.user_id;
        if other == me {
            return Err(Error::invalid(
                "user_id",
                "cannot start a conversation with yourself",
            ));
        }
        self.check_standing(me).await?;
        let key = direct_key(me, other);
        let reach = self.relations.reach(me, &[other]).await?;
        if !reach.first().is_some_and(|r| r.exists && r.can_interact) {
            return Err(not_found());
        }
        let id = match self.store.direct(&key).await? {
            Some(id) => id,
            None => {
                self.check_contact(me, &[other]).await?;
                let new = NewConversation {
                    id: ConversationId::new(),
                    kind: ConversationKind::Direct,
                    direct_key: Some(key),
                    title: String::new(),
                    created_by: me,
                    members: vec![(me, Role::Member), (other, Role::Member)],
                };
                self.store.create(&new, self.clock.now()).await?.0
            }
        };
        self.member_of(principal, id).await
    }

    async fn create_group(
        &self,
        principal: &Principal,
        title: &str,
        members: &[UserId],
    ) -> Result<Conversation> {
        principal.require_scope("write")?;
        let me = principal.user_id;
        check_title(title)?;
        self.check_standing(me).await?;
        let others: Vec<UserId> = members
            .iter()
            .copied()
            .filter(|u| *u != me)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if others.len() + 1 > self.limits.max_group_members {
            return Err(Error::invalid(
                "member_ids",
                format!(
                    "a group has at most {} members",
                    self.limits.max_group_members
                ),
            ));
        }
        self.check_contact(me, &others).await?;
        let mut roles = vec![(me, Role::Owner)];
        roles.extend(others.iter().map(|u| (*u, Role::Member)));
        let new = NewConversation {
            id: ConversationId::new(),
            kind: ConversationKind::Group,
            direct_key: None,
            title: title.trim().to_owned(),
            created_by: me,
            members: roles,
        };
        let (id, _) = self.store.create(&new, self.clock.now()).await?;
        self.member_of(principal, id).await
    }

    async fn conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        principal.require_scope("read")?;
        self.member_of(principal, id).await
    }

    async fn conversations(
        &self,
        principal: &Principal,
        archived: bool,
        first: u32,
    ) -> Result<Vec<Conversation>> {
        principal.require_scope("read")?;
        self.store
            .conversations(principal.user_id, archived, page(first, 20, MAX_PAGE))
            .await
    }

    async fn members(&self, principal: &Principal, id: ConversationId) -> Result<Members> {
        principal.require_scope("read")?;
        self.member_of(principal, id).await?;
        self.store.members(id).await?.ok_or_else(not_found)
    }

    async fn invite(
        &self,
        principal: &Principal,
        id: ConversationId,
        users: &[UserId],
    ) -> Result<Members> {
        principal.require_scope("write")?;
        nova_core::error::cap("user_ids", users.len(), self.limits.max_group_members)?;
        self.group_of(principal, id).await?;
        let me = principal.user_id;
        self.check_standing(me).await?;
        let users: Vec<UserId> = users
            .iter()
            .copied()
            .filter(|u| *u != me)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.check_contact(me, &users).await?;
        let version = self
            .store
            .add_members(
                id,
                &users,
                me,
                self.limits.max_group_members,
                self.clock.now(),
            )
            .await?;
        self.members_changed(id, version, None).await;
        self.store.members(id).await?.ok_or_else(not_found)
    }

    async fn kick(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
    ) -> Result<Members> {
        principal.require_scope("write")?;
        let mine = self.group_of(principal, id).await?;
        let members = self.store.members(id).await?.ok_or_else(not_found)?;
        let target = members
            .members
            .iter()
            .find(|m| m.user_id == user)
            .ok_or_else(not_found)?;
        if user == principal.user_id {
            return Err(Error::invalid("user_id", "use leave to leave a group"));
        }
        if mine.role < Role::Admin || target.role >= mine.role {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "only admins remove members, and only of a lower role",
            ));
        }
        let version = self
            .store
            .remove_member(id, user, principal.user_id, self.clock.now())
            .await?;
        self.members_changed(id, version, Some(user)).await;
        self.store.members(id).await?.ok_or_else(not_found)
    }

    async fn leave(&self, principal: &Principal, id: ConversationId) -> Result<()> {
        principal.require_scope("write")?;
        self.group_of(principal, id).await?;
        let me = principal.user_id;
        let version = self
            .store
            .remove_member(id, me, me, self.clock.now())
            .await?;
        self.members_changed(id, version, Some(me)).await;
        Ok(())
    }

    async fn set_role(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
        role: Role,
    ) -> Result<Members> {
        principal.require_scope("write")?;
        let mine = self.group_of(principal, id).await?;
        if mine.role != Role::Owner {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "only the owner changes roles",
            ));
        }
        if user == principal.user_id {
            return Err(Error::invalid(
                "user_id",
                "the owner hands over by making another member owner",
            ));
        }
        let version = self
            .store
            .set_role(id, user, role, principal.user_id, self.clock.now())
            .await?
            .ok_or_else(not_found)?;
        self.members_changed(id, Some(version), None).await;
        self.store.members(id).await?.ok_or_else(not_found)
    }

    async fn update_group(
        &self,
        principal: &Principal,
        id: ConversationId,
        title: &str,
        avatar_media_id: &str,
    ) -> Result<Conversation> {
        principal.require_scope("write")?;
        let mine = self.group_of(principal, id).await?;
        if mine.role < Role::Admin {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "only admins change the title and avatar",
            ));
        }
        check_title(title)?;
        if avatar_media_id.len() > 64 || !avatar_media_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "avatar_media_id",
                "at most 64 printable ASCII characters",
            ));
        }
        self.store
            .update_group(id, title.trim(), avatar_media_id, self.clock.now())
            .await?;
        self.member_of(principal, id).await
    }

    async fn send(
        &self,
        principal: &Principal,
        id: ConversationId,
        message: NewMessage,
    ) -> Result<Sent> {
        principal.require_scope("write")?;
        let me = principal.user_id;
        // A suspended account is refused whatever it sends.
        self.check_standing(me).await?;
        Self::validate_message(&message)?;
        let conversation = self.member_of(principal, id).await?;
        let members = self.store.members(id).await?.ok_or_else(not_found)?;
        let member_ids: BTreeSet<UserId> = members.members.iter().map(|m| m.user_id).collect();
        let others: Vec<UserId> = member_ids.iter().copied().filter(|u| *u != me).collect();
        let reach: BTreeMap<UserId, Reach> = others
            .iter()
            .copied()
            .zip(self.relations.reach(me, &others).await?)
            .collect();
        let blocked = |u: &UserId| *u != me && !reach.get(u).is_some_and(|r| r.can_interact);
        if conversation.kind == ConversationKind::Direct && others.iter().any(blocked) {
            // A blocked pair: the same answer as a missing conversation.
            return Err(not_found());
        }
        let decision = self
            .limiter
            .check(&format!("chat:send:{me}"), &self.limits.send)
            .await?;
        if !decision.allowed {
            return Err(Error::new(
                ErrorKind::RateLimited,
                "too many messages, try again later",
            ));
        }
        // Envelopes reach current members only, and never someone who blocked the sender
        // (or whom the sender blocked).
        let targets: Vec<Vec<DeviceAddress>> = message
            .envelopes
            .iter()
            .map(|env| {
                env.recipients
                    .iter()
                    .filter(|d| member_ids.contains(&d.user_id) && !blocked(&d.user_id))
                    .cloned()
                    .collect()
            })
            .collect();
        let now = self.clock.now();
        let expires = now + self.limits.inbox_ttl;
        let stored = self
            .store
            .insert_message(id, me, &message, &targets, expires, now)
            .await?;
        let mut per_user: BTreeMap<UserId, Vec<Wire>> = BTreeMap::new();
        for (device, delivery) in stored.deliveries {
            per_user.entry(device.user_id).or_default().push(Wire {
                device: Some(device.device_id),
                event: LiveEvent::Delivery(delivery),
            });
        }
        for (user, events) in per_user {
            self.publish(user, events).await;
        }
        Ok(stored.sent)
    }

    async fn history(
        &self,
        principal: &Principal,
        id: ConversationId,
        device: &DeviceId,
        before: Option<i64>,
        first: u32,
    ) -> Result<Vec<HistoryItem>> {
        principal.require_scope("read")?;
        self.member_of(principal, id).await?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        self.store
            .history(id, &me, before, page(first, 50, MAX_PAGE))
            .await
    }

    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        principal.require_scope("read")?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        self.store
            .inbox(
                &me,
                after,
                page(limit, 100, MAX_INBOX_PAGE),
                self.clock.now(),
            )
            .await
    }

    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64> {
        principal.require_scope("read")?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        let (removed, delivered) = self.store.acknowledge(&me, up_to).await?;
        for (conversation, message) in delivered {
            let event = LiveEvent::Receipt {
                conversation_id: conversation,
                user_id: principal.user_id,
                receipt: ReceiptKind::Delivered,
                up_to: message,
            };
            self.tell_members(conversation, Some(principal.user_id), event)
                .await;
        }
        Ok(removed)
    }

    async fn acknowledged(&self, principal: &Principal, device: &DeviceId) -> Result<i64> {
        principal.require_scope("read")?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        self.store.acknowledged(&me).await
    }

    async fn mark_read(
        &self,
        principal: &Principal,
        id: ConversationId,
        message_id: i64,
    ) -> Result<()> {
        principal.require_scope("read")?;
        if !self
            .store
            .mark_read(id, principal.user_id, message_id)
            .await?
        {
            return Err(not_found());
        }
        let event = LiveEvent::Receipt {
            conversation_id: id,
            user_id: principal.user_id,
            receipt: ReceiptKind::Read,
            up_to: message_id,
        };
        self.tell_members(id, Some(principal.user_id), event).await;
        Ok(())
    }

    async fn set_archived(
        &self,
        principal: &Principal,
        id: ConversationId,
        archived: bool,
        keep_archived: bool,
    ) -> Result<Conversation> {
        principal.require_scope("write")?;
        if !self
            .store
            .set_archived(id, principal.user_id, archived, keep_archived)
            .await?
        {
            return Err(not_found());
        }
        self.member_of(principal, id).await
    }

    async fn mute(
        &self,
        principal: &Principal,
        id: ConversationId,
        until: Option<Timestamp>,
    ) -> Result<Conversation> {
        principal.require_scope("write")?;
        if !self.store.mute(id, principal.user_id, until).await? {
            return Err(not_found());
        }
        self.member_of(principal, id).await
    }

    async fn dm_policy(&self, principal: &Principal) -> Result<DmPolicy> {
        principal.require_scope("read")?;
        let policies = self.store.dm_policies(&[principal.user_id]).await?;
        Ok(policies.first().copied().unwrap_or_default())
    }

    async fn set_dm_policy(&self, principal: &Principal, policy: DmPolicy) -> Result<DmPolicy> {
        principal.require_scope("write")?;
        self.store
            .set_dm_policy(principal.user_id, policy, self.clock.now())
            .await?;
        Ok(policy)
    }

    async fn typing(&self, principal: &Principal, id: ConversationId) -> Result<()> {
        principal.require_scope("write")?;
        self.member_of(principal, id).await?;
        let event = LiveEvent::Typing {
            conversation_id: id,
            user_id: principal.user_id,
        };
        self.tell_members(id, Some(principal.user_id), event).await;
        Ok(())
    }

    async fn subscribe(
        &self,
        principal: &Principal,
        device: &DeviceId,
    ) -> Result<BoxStream<'static, LiveEvent>> {
        principal.require_scope("read")?;
        let device = device.clone();
        let stream = self.pubsub.subscribe(&channel(principal.user_id)).await?;
        Ok(stream
            .flat_map(move |message| {
                let events: Vec<Wire> =
                    serde_json::from_slice(&message.payload).unwrap_or_default();
                let mine: Vec<LiveEvent> = events
                    .into_iter()
                    .filter(|w| w.device.as_ref().is_none_or(|d| *d == device))
                    .map(|w| w.event)
                    .collect();
                futures::stream::iter(mine)
            })
            .boxed())
    }
}

fn check_title(title: &str) -> Result<()> {
    let title = title.trim();
    if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(Error::invalid(
            "title",
            format!("at most {MAX_TITLE_CHARS} characters, no control characters"),
        ));
    }
    Ok(())
}
