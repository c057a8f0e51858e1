//! [`NotificationService`]: the rules (who may notify whom, grouping, read markers) over
//! the [`NotificationStore`], the [`Relations`] port and, for live delivery, pub/sub.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use futures::StreamExt;
use futures::stream::BoxStream;
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, Page, Principal, Result, SharedClock, SystemClock, UserId};
use nova_events::{EventEnvelope, EventHandler};
use nova_kv::PubSub;

use crate::api::NotificationApi;
use crate::events::{Draft, drafts};
use crate::model::{
    DEFAULT_PAGE, Folder, MAX_PAGE, MarkRead, Notification, NotificationId, NotificationKind,
    Policy, Standing,
};
use crate::ports::Relations;
use crate::preferences::{Preferences, Route};
use crate::store::{Activity, Change, EventChanges, NotificationStore, Position, Touched};

/// The consumer (group) name of the notification event handler; its processed event ids
/// are recorded under it.
pub const CONSUMER: &str = "notification";

/// The default grouping window: activities of one kind on one target within it share a
/// group.
pub const DEFAULT_WINDOW: Duration = Duration::hours(24);

/// The pub/sub channel of `user`'s live notifications (payload: the group id).
pub fn channel(user: UserId) -> String {
    format!("notifications:{user}")
}

/// The notification domain.
pub struct NotificationService {
    store: Arc<dyn NotificationStore>,
    relations: Arc<dyn Relations>,
    cursors: CursorCodec,
    clock: SharedClock,
    pubsub: Option<Arc<dyn PubSub>>,
    window: Duration,
}

impl NotificationService {
    /// Over `store`, asking `relations` who may notify whom, with pages signed by
    /// `cursors`.
    pub fn new(
        store: Arc<dyn NotificationStore>,
        relations: Arc<dyn Relations>,
        cursors: CursorCodec,
    ) -> Self {
        Self {
            store,
            relations,
            cursors,
            clock: SystemClock::shared(),
            pubsub: None,
            window: DEFAULT_WINDOW,
        }
    }

    /// Publishes written notifications on `pubsub` (live subscriptions; without it,
    /// [`subscribe`](NotificationApi::subscribe) is `Unavailable`).
    pub fn with_pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the grouping window (at least a second).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::seconds(1));
        self
    }

    /// Turns `events` into notifications in one transaction, each event at most once
    /// (by id, under [`CONSUMER`]) however often it is delivered; answers how many
    /// groups gained an actor. Nobody is notified of their own action, nor by an account
    /// they block, are blocked by or mute; what the recipient's [`Policy`] filters goes
    /// to [`Folder::Requests`].
    pub async fn ingest(&self, events: &[EventEnvelope]) -> Result<usize> {
        let mut drafted = Vec::with_capacity(events.len());
        // Each recipient's actors, asked about once for the batch.
        let mut asked: BTreeMap<UserId, BTreeSet<UserId>> = BTreeMap::new();
        for event in events {
            let ds = drafts(event)?;
            for d in &ds {
                if let Draft::Add {
                    recipient, actor, ..
                } = d
                    && recipient != actor
                {
                    asked.entry(*recipient).or_default().insert(*actor);
                }
            }
            drafted.push((event.id, ds));
        }
        let mut standing: BTreeMap<(UserId, UserId), Standing> = BTreeMap::new();
        for (recipient, actors) in &asked {
            let actors: Vec<UserId> = actors.iter().copied().collect();
            let answers = self.relations.standings(*recipient, &actors).await?;
            if answers.len() != actors.len() {
                return Err(Error::internal("relations answered for other actors"));
            }
            for (actor, s) in actors.into_iter().zip(answers) {
                standing.insert((*recipient, actor), s);
            }
        }
        let recipients: Vec<UserId> = asked.keys().copied().collect();
        let policies: BTreeMap<UserId, Policy> = recipients
            .iter()
            .copied()
            .zip(self.store.policies(&recipients).await?)
            .collect();
        let preferences: BTreeMap<UserId, Preferences> = recipients
            .iter()
            .copied()
            .zip(self.store.preferences(&recipients).await?)
            .collect();
        let batch: Vec<EventChanges> = drafted
            .into_iter()
            .map(|(event_id, ds)| EventChanges {
                event_id,
                changes: ds
                    .into_iter()
                    .filter_map(|d| self.change(d, &standing, &policies, &preferences))
                    .collect(),
            })
            .collect();
        let window_us = self.window.num_microseconds().unwrap_or(i64::MAX);
        let touched = self
            .store
            .apply(CONSUMER, &batch, window_us, self.clock.now())
            .await?;
        self.publish(&touched).await;
        Ok(touched.len())
    }

    /// The change a draft makes, once the recipient's relations and policy are known.
    fn change(
        &self,
        draft: Draft,
        standing: &BTreeMap<(UserId, UserId), Standing>,
        policies: &BTreeMap<UserId, Policy>,
        preferences: &BTreeMap<UserId, Preferences>,
    ) -> Option<Change> {
        Some(match draft {
            Draft::Add {
                recipient,
                kind,
                target,
                actor,
                subject,
                at,
            } => {
                let s = standing.get(&(recipient, actor))?;
                if !s.allows(kind) {
                    return None;
                }
                // In-app off for this kind: no group (push and email are routed apart).
                if !preferences
                    .get(&recipient)
                    .is_none_or(|p| p.channels(kind).in_app)
                {
                    return None;
                }
                let policy = policies.get(&recipient).copied().unwrap_or_default();
                let folder = match policy.filter_not_following && !s.follows {
                    true => Folder::Requests,
                    false => Folder::Inbox,
                };
                Change::Add(Activity {
                    recipient,
                    kind,
                    target,
                    actor,
                    subject,
                    at,
                    folder,
                })
            }
            Draft::Remove {
                recipient,
                kind,
                target,
                actor,
            } => Change::Remove {
                recipient,
                kind,
                target,
                actor,
            },
            Draft::RemovePost { post } => Change::RemovePost { post },
        })
    }

    /// Tells live subscribers (best effort: the stored notification is the record).
    async fn publish(&self, touched: &[Touched]) {
        let Some(pubsub) = &self.pubsub else { return };
        for t in touched {
            let sent = pubsub
                .publish(&channel(t.recipient), t.id.to_string().into_bytes())
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "notification not published live");
            }
        }
    }

    /// Drops what moderation withholds from `me` (suspended actors, removed or hidden
    /// posts) from `items`.
    async fn withhold(&self, me: UserId, items: &mut Vec<Notification>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut actors: Vec<UserId> = items
            .iter()
            .flat_map(|n| n.actors.iter().map(|a| a.user_id))
            .collect();
        actors.sort();
        actors.dedup();
        let mut posts: Vec<String> = items
            .iter()
            .flat_map(|n| {
                n.target_id
                    .iter()
                    .chain(n.actors.iter().filter_map(|a| a.subject_id.as_ref()))
                    .filter(|p| !p.is_empty())
                    .cloned()
            })
            .collect();
        posts.sort();
        posts.dedup();
        self.relations
            .withheld(me, &actors, &posts)
            .await?
            .apply(items);
        Ok(())
    }

    /// Where and when a notification of `kind` for `recipient` goes now: the in-app
    /// list (never held), push and email (off, now, or held until quiet hours end).
    pub async fn route(&self, recipient: UserId, kind: NotificationKind) -> Result<Route> {
        let prefs = self.store.preferences(&[recipient]).await?;
        let prefs = prefs.into_iter().next().unwrap_or_default();
        Ok(prefs.route(kind, self.clock.now()))
    }

    fn decode_cursor(&self, after: Option<&str>) -> Result<Option<Position>> {
        self.cursors.decode_opt(after)
    }
}

/// The caller's own user, for reading (`read` scope) or changing (`write` scope) their
/// notifications; a service principal acting for nobody has none.
fn me(principal: &Principal, scope: &str) -> Result<UserId> {
    if principal.user_id.as_uuid().is_nil() {
        return Err(Error::from_kind(ErrorKind::PermissionDenied));
    }
    principal.require_scope(scope)?;
    Ok(principal.user_id)
}

#[async_trait]
impl NotificationApi for NotificationService {
    async fn list(
        &self,
        principal: &Principal,
        folder: Folder,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Notification>> {
        let me = me(principal, "read")?;
        let limit = match first {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let after = self.decode_cursor(after)?;
        let mut items = self.store.list(me, folder, limit + 1, after).await?;
        let has_next_page = items.len() > limit as usize;
        items.truncate(limit as usize);
        // The cursor follows the last group read, shown or not.
        let last = items.last().map(|n| (n.updated_at, n.id));
        self.withhold(me, &mut items).await?;
        let end_cursor = match last {
            Some((updated_at, id)) => {
                Some(self.cursors.encode(&(updated_at.timestamp_micros(), id))?)
            }
            None => None,
        };
        Ok(Page {
            items,
            end_cursor,
            has_next_page,
        })
    }

    async fn unread_count(&self, principal: &Principal, folder: Folder) -> Result<u64> {
        self.store
            .unread_count(me(principal, "read")?, folder)
            .await
    }

    async fn mark_read(
        &self,
        principal: &Principal,
        folder: Folder,
        which: MarkRead,
    ) -> Result<u64> {
        let me = me(principal, "write")?;
        match which {
            MarkRead::One(id) => self
                .store
                .mark_one(me, id)
                .await?
                .ok_or_else(Error::not_found),
            MarkRead::UpTo(id) => {
                let marker = self.marker(me, id).await?;
                self.store
                    .mark_up_to(me, marker.folder, Some(marker.position))
                    .await
            }
            MarkRead::All => self.store.mark_up_to(me, folder, None).await,
        }
    }

    async fn policy(&self, principal: &Principal) -> Result<Policy> {
        let me = me(principal, "read")?;
        let policies = self.store.policies(&[me]).await?;
        Ok(policies.into_iter().next().unwrap_or_default())
    }

    async fn set_policy(&self, principal: &Principal, policy: Policy) -> Result<Policy> {
        let me = me(principal, "write")?;
        self.store.set_policy(me, policy, self.clock.now()).await?;
        Ok(policy)
    }

    async fn preferences(&self, principal: &Principal) -> Result<Preferences> {
        let me = me(principal, "read")?;
        let prefs = self.store.preferences(&[me]).await?;
        Ok(prefs.into_iter().next().unwrap_or_default())
    }

    async fn set_preferences(
        &self,
        principal: &Principal,
        preferences: Preferences,
    ) -> Result<Preferences> {
        let me = me(principal, "write")?;
        preferences.validate()?;
        self.store
            .set_preferences(me, &preferences, self.clock.now())
            .await?;
        Ok(preferences)
    }

    async fn subscribe(&self, principal: &Principal) -> Result<BoxStream<'static, Notification>> {
        let me = me(principal, "read")?;
        let pubsub = self
            .pubsub
            .as_ref()
            .ok_or_else(|| Error::unavailable("live notifications are not configured"))?;
        let messages = pubsub.subscribe(&channel(me)).await?;
        let store = self.store.clone();
        // Read at delivery time, as the recipient: a group undone meanwhile is skipped.
        Ok(messages
            .filter_map(move |m| {
                let store = store.clone();
                async move {
                    let id: NotificationId = std::str::from_utf8(&m.payload).ok()?.parse().ok()?;
                    store.get(me, id).await.ok().flatten()
                }
            })
            .boxed())
    }
}

/// Where a read marker stands.
struct Marker {
    folder: Folder,
    position: Position,
}

impl NotificationService {
    /// The caller's notification `id` as a read marker (`NotFound` if not theirs).
    async fn marker(&self, me: UserId, id: NotificationId) -> Result<Marker> {
        let n = self.store.get(me, id).await?.ok_or_else(Error::not_found)?;
        Ok(Marker {
            folder: n.folder,
            position: (n.updated_at.timestamp_micros(), n.id),
        })
    }
}

/// The event consumer: every delivered event through [`NotificationService::ingest`].
pub struct NotificationEvents(pub Arc<NotificationService>);

#[async_trait]
impl EventHandler for NotificationEvents {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        self.0.ingest(std::slice::from_ref(event)).await.map(|_| ())
    }
}
