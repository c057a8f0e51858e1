//! nova-user's port to the media domain (implemented in nova-app over
//! `nova_media::MediaApi`): an avatar or banner must be the user's own ready upload, and
//! claiming it keeps it from the cleanup of unattached uploads.

use async_trait::async_trait;
use nova_core::{MediaId, Result, UserId};

/// Which picture of a profile an upload becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSlot {
    /// The avatar.
    Avatar,
    /// The banner.
    Banner,
}

impl ProfileSlot {
    /// The profile field it fills (and the name errors use).
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileSlot::Avatar => "avatar",
            ProfileSlot::Banner => "banner",
        }
    }
}

/// Where profile pictures are checked and claimed.
#[async_trait]
pub trait ProfileMedia: Send + Sync {
    /// Claims `media` as `owner`'s `slot`: `InvalidArgument` when it is not `owner`'s,
    /// not ready, or used elsewhere.
    async fn claim(&self, owner: UserId, media: MediaId, slot: ProfileSlot) -> Result<()>;
}
