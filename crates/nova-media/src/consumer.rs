//! [`MediaCleanup`]: media go with what they belong to. A deleted post's media
//! (`post.deleted`) and a deleted account's uploads (`user.state_changed`, state
//! `deleted`) are removed from the store and from object storage. Idempotent: a
//! redelivered event finds nothing left.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{PostId, Result, UserId};
use nova_events::{EventEnvelope, EventHandler, types};
use nova_proto::nova::content::v1::PostDeleted;
use nova_proto::nova::user::v1::AccountStateChanged;
use prost::Message;

use crate::MediaService;
use crate::api::post_target;

/// The consumer group of [`MediaCleanup`].
pub const CONSUMER: &str = "media-cleanup";

/// Deletes the media of deleted posts and accounts.
pub struct MediaCleanup {
    media: Arc<MediaService>,
}

impl std::fmt::Debug for MediaCleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaCleanup").finish_non_exhaustive()
    }
}

impl MediaCleanup {
    /// Deletes through `media`.
    pub fn new(media: Arc<MediaService>) -> Self {
        Self { media }
    }
}

#[async_trait]
impl EventHandler for MediaCleanup {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        // A payload that does not decode never will: retrying would stall the log, so
        // it is logged and skipped.
        match event.event_type.as_str() {
            types::POST_DELETED => {
                let post = PostDeleted::decode(event.payload.as_slice())
                    .ok()
                    .and_then(|d| d.post_id.parse::<PostId>().ok());
                let Some(post) = post else {
                    tracing::error!(event = %event.id, "post.deleted without a post id; skipped");
                    return Ok(());
                };
                let n = self.media.delete_attached_to(&post_target(post)).await?;
                if n > 0 {
                    tracing::info!(%post, removed = n, "media: a deleted post's media removed");
                }
            }
            types::USER_STATE_CHANGED => {
                let Ok(changed) = AccountStateChanged::decode(event.payload.as_slice()) else {
                    tracing::error!(event = %event.id, "user.state_changed that does not decode; skipped");
                    return Ok(());
                };
                if changed.state != "deleted" {
                    return Ok(());
                }
                let Ok(user) = changed.user_id.parse::<UserId>() else {
                    tracing::error!(event = %event.id, "user.state_changed without a user id; skipped");
                    return Ok(());
                };
                let n = self.media.delete_owned_by(user).await?;
                tracing::info!(%user, removed = n, "media: a deleted account's uploads removed");
            }
            _ => {}
        }
        Ok(())
    }
}
