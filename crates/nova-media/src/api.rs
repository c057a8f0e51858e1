//! The media API other domains and the gateway call (in-process or over gRPC).
//!
//! Uploads are not here: they stream through the service that stores them
//! ([`MediaService::upload`](crate::MediaService::upload), REST `POST /api/v1/media`).

use async_trait::async_trait;
use nova_core::{Principal, Result};

use crate::model::{Media, MediaId, MediaUpdate};

/// Most ids one [`get_many`](MediaApi::get_many) call takes.
pub const MAX_GET_MANY: usize = 100;

/// Reading and describing uploads.
///
/// Authorization is here, not in the callers: anyone may read a ready upload; only its
/// owner sees it before it is ready (or after it failed), and only its owner changes or
/// deletes it. What the caller may not see or touch answers `NotFound`, exactly like
/// what does not exist. Variants come with signed, expiring URLs.
#[async_trait]
pub trait MediaApi: Send + Sync {
    /// One upload.
    async fn get(&self, principal: &Principal, id: MediaId) -> Result<Media>;
    /// The uploads among `ids` the caller may see (at most [`MAX_GET_MANY`] ids), in the
    /// order asked; the others are left out.
    async fn get_many(&self, principal: &Principal, ids: &[MediaId]) -> Result<Vec<Media>>;
    /// Changes the alt text and/or focal point of the caller's upload.
    async fn update(
        &self,
        principal: &Principal,
        id: MediaId,
        update: MediaUpdate,
    ) -> Result<Media>;
    /// Deletes the caller's upload and its files.
    async fn delete(&self, principal: &Principal, id: MediaId) -> Result<()>;
}
