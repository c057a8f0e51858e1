//! [`UserService`]: profile and settings rules over the [`UserStore`] port.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, SubsecRound};
use nova_core::{
    Error, ErrorKind, MediaId, Principal, Result, SharedClock, SystemClock, Timestamp, UserId,
};
use nova_events::{EventEnvelope, RelayWaker};
use nova_proto::nova::user::v1 as events;
use prost::Message;

use crate::api::UserApi;
use crate::media::{ProfileMedia, ProfileSlot};
use crate::model::{DeletedBy, PrivacySettings, Profile, ProfileUpdate, Settings};
use crate::store::{ProfileFields, ProfileRow, UserStore};
use crate::validation::{self, BIO_MAX, DISPLAY_NAME_MAX, PRONOUNS_MAX};

/// How long an old username stays reserved for its previous owner.
pub const USERNAME_RESERVATION: Duration = Duration::days(30);
/// Longest deletion reason kept.
const REASON_MAX: usize = 500;

/// Most ids one profiles or privacy batch read may carry: the gateway's loaders batch at
/// most 100, social's AuthorAccess asks for the authors of one batch of posts (at most
/// 1,000); 1,000 matches graph's and social's batch reads.
pub const MAX_BATCH: usize = 1_000;

/// The users service.
pub struct UserService {
    store: Arc<dyn UserStore>,
    clock: SharedClock,
    relay: Option<RelayWaker>,
    media: Option<Arc<dyn ProfileMedia>>,
}

impl UserService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn UserStore>) -> Self {
        Self {
            store,
            clock: SystemClock::shared(),
            relay: None,
            media: None,
        }
    }

    /// Checks and claims avatars and banners through `media` (the media domain): only
    /// the user's own ready uploads. Without it media ids are stored as given (tests and
    /// tools without a media domain).
    pub fn with_media(mut self, media: Arc<dyn ProfileMedia>) -> Self {
        self.media = Some(media);
        self
    }

    /// Claims a newly chosen profile picture (a picture kept as it was is not asked
    /// about again).
    async fn claim(
        &self,
        owner: UserId,
        chosen: Option<Option<MediaId>>,
        current: Option<MediaId>,
        slot: ProfileSlot,
    ) -> Result<()> {
        let (Some(media), Some(Some(id))) = (&self.media, chosen) else {
            return Ok(());
        };
        if current == Some(id) {
            return Ok(());
        }
        media
            .claim(owner, id, slot)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidArgument { .. } => Error::invalid(
                    slot.as_str(),
                    "must be your own upload, ready, and not used elsewhere",
                ),
                _ => e,
            })
    }

    /// Uses `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Wakes the outbox relay after commits with events.
    pub fn with_relay(mut self, relay: RelayWaker) -> Self {
        self.relay = Some(relay);
        self
    }

    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    fn event(&self, event_type: &str, user: UserId, payload: &impl Message) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            user.to_string(),
            self.now(),
            payload.encode_to_vec(),
        )
    }

    fn state_event(&self, user: UserId, state: &str, by: DeletedBy, reason: &str) -> EventEnvelope {
        let (actor_kind, actor_id) = match by {
            DeletedBy::User => ("user", String::new()),
            DeletedBy::Moderator(m) => ("moderator", m.to_string()),
        };
        self.event(
            nova_events::types::USER_STATE_CHANGED,
            user,
            &events::AccountStateChanged {
                user_id: user.to_string(),
                state: state.to_owned(),
                actor_kind: actor_kind.to_owned(),
                actor_id,
                reason: reason.to_owned(),
            },
        )
    }

    fn wake(&self) {
        if let Some(relay) = &self.relay {
            relay.wake();
        }
    }

    async fn own_profile(&self, principal: &Principal) -> Result<Profile> {
        self.profile(principal.user_id).await
    }
}

fn view(row: ProfileRow) -> Profile {
    Profile {
        user_id: row.user_id,
        username: row.username,
        display_name: row.display_name,
        bio: row.bio,
        avatar: row.avatar_media_id,
        banner: row.banner_media_id,
        links: serde_json::from_str(&row.links).unwrap_or_default(),
        pronouns: row.pronouns,
        pinned_post: row.pinned_post_id,
        private_account: row.private_account,
        created_at: row.created_at,
    }
}

#[async_trait]
impl UserApi for UserService {
    async fn profile(&self, user: UserId) -> Result<Profile> {
        let mut rows = self.store.profiles(&[user]).await?;
        rows.pop().map(view).ok_or_else(Error::not_found)
    }

    async fn profile_by_username(&self, username: &str) -> Result<Profile> {
        validation::text("username", username, 64)?;
        self.store
            .profile_by_username(&username.trim().to_lowercase())
            .await?
            .map(view)
            .ok_or_else(Error::not_found)
    }

    async fn active_user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>> {
        if !(1..=1000).contains(&limit) {
            return Err(Error::invalid("limit", "1 to 1000"));
        }
        self.store.active_user_ids(after, limit).await
    }

    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<Profile>> {
        nova_core::error::cap("user_ids", ids.len(), MAX_BATCH)?;
        let mut rows = self.store.profiles(ids).await?;
        // Keep the caller's order (pages of posts hydrate authors in post order).
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.user_id));
        Ok(rows.into_iter().map(view).collect())
    }

    async fn update_profile(
        &self,
        principal: &Principal,
        update: ProfileUpdate,
    ) -> Result<Profile> {
        let current = self.own_profile(principal).await?;
        let (avatar, banner) = (current.avatar, current.banner);
        let fields = ProfileFields {
            display_name: match &update.display_name {
                Some(v) => validation::text("display_name", v, DISPLAY_NAME_MAX)?,
                None => current.display_name,
            },
            bio: match &update.bio {
                Some(v) => validation::text("bio", v, BIO_MAX)?,
                None => current.bio,
            },
            avatar: update.avatar.unwrap_or(current.avatar),
            banner: update.banner.unwrap_or(current.banner),
            links_json: serde_json::to_string(&match &update.links {
                Some(v) => validation::links(v)?,
                None => current.links,
            })
            .map_err(Error::internal)?,
            pronouns: match &update.pronouns {
                Some(v) => validation::text("pronouns", v, PRONOUNS_MAX)?,
                None => current.pronouns,
            },
            pinned_post: update.pinned_post.unwrap_or(current.pinned_post),
        };
        // Claimed once every field is valid: a refused update claims nothing.
        let me = principal.user_id;
        self.claim(me, update.avatar, avatar, ProfileSlot::Avatar)
            .await?;
        self.claim(me, update.banner, banner, ProfileSlot::Banner)
            .await?;
        let event = self.event(
            "user.profile_updated",
            principal.user_id,
            &events::ProfileUpdated {
                user_id: principal.user_id.to_string(),
            },
        );
        self.store
            .save_profile(principal.user_id, &fields, self.now(), &[event])
            .await?;
        self.wake();
        self.own_profile(principal).await
    }

    async fn settings(&self, principal: &Principal) -> Result<Settings> {
        self.own_profile(principal).await?;
        Ok(self
            .store
            .settings(principal.user_id)
            .await?
            .unwrap_or_default())
    }

    async fn update_settings(&self, principal: &Principal, settings: Settings) -> Result<Settings> {
        self.own_profile(principal).await?;
        let event = self.event(
            "user.profile_updated",
            principal.user_id,
            &events::ProfileUpdated {
                user_id: principal.user_id.to_string(),
            },
        );
        self.store
            .save_settings(principal.user_id, &settings, self.now(), &[event])
            .await?;
        self.wake();
        Ok(settings)
    }

    async fn privacy(&self, ids: &[UserId]) -> Result<Vec<PrivacySettings>> {
        nova_core::error::cap("user_ids", ids.len(), MAX_BATCH)?;
        let stored = self.store.settings_many(ids).await?;
        Ok(ids
            .iter()
            .map(|id| {
                let s = stored
                    .iter()
                    .find(|(u, _)| u == id)
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                PrivacySettings {
                    user_id: *id,
                    private_account: s.private_account,
                    message_policy: s.message_policy,
                    discoverable: s.discoverable,
                    hide_follow_counts: s.hide_follow_counts,
                    hide_follow_lists: s.hide_follow_lists,
                }
            })
            .collect())
    }

    async fn change_username(&self, principal: &Principal, username: &str) -> Result<Profile> {
        let current = self.own_profile(principal).await?;
        let new = nova_core::username::username(username)?;
        if new == current.username {
            return Ok(current);
        }
        let now = self.now();
        let event = self.event(
            "user.username_changed",
            principal.user_id,
            &events::UsernameChanged {
                user_id: principal.user_id.to_string(),
                old_username: current.username.clone(),
                new_username: new.clone(),
            },
        );
        self.store
            .change_username(
                principal.user_id,
                &new,
                &current.username.to_lowercase(),
                now + USERNAME_RESERVATION,
                now,
                &[event],
            )
            .await?;
        self.wake();
        self.own_profile(principal).await
    }

    async fn deactivate(&self, principal: &Principal) -> Result<()> {
        let event = self.state_event(principal.user_id, "deactivated", DeletedBy::User, "");
        if !self
            .store
            .set_deactivated(principal.user_id, Some(self.now()), &[event])
            .await?
        {
            return Err(Error::from_kind(ErrorKind::Unauthenticated));
        }
        self.wake();
        Ok(())
    }

    async fn reactivate(&self, principal: &Principal) -> Result<()> {
        if !self.store.is_deactivated(principal.user_id).await? {
            return Err(Error::new(
                ErrorKind::Conflict,
                "account is not deactivated",
            ));
        }
        let event = self.state_event(principal.user_id, "reactivated", DeletedBy::User, "");
        self.store
            .set_deactivated(principal.user_id, None, &[event])
            .await?;
        self.wake();
        Ok(())
    }

    async fn delete_account(&self, principal: &Principal, reason: &str) -> Result<()> {
        let reason = validation::text("reason", reason, REASON_MAX)?;
        let event = self.state_event(principal.user_id, "deleted", DeletedBy::User, &reason);
        if !self
            .store
            .delete(
                principal.user_id,
                DeletedBy::User,
                &reason,
                self.now(),
                &[event],
            )
            .await?
        {
            return Err(Error::from_kind(ErrorKind::Unauthenticated));
        }
        self.wake();
        Ok(())
    }

    async fn moderator_delete(
        &self,
        moderator: &Principal,
        user: UserId,
        reason: &str,
    ) -> Result<()> {
        moderator.require_scope("moderator")?;
        let reason = validation::text("reason", reason, REASON_MAX)?;
        if reason.is_empty() {
            return Err(Error::invalid(
                "reason",
                "is required for moderator actions",
            ));
        }
        let by = DeletedBy::Moderator(moderator.user_id);
        let event = self.state_event(user, "deleted", by, &reason);
        if !self
            .store
            .delete(user, by, &reason, self.now(), &[event])
            .await?
        {
            return Err(Error::not_found());
        }
        self.wake();
        Ok(())
    }
}
