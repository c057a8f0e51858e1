//! The media API other domains and the gateway call (in-process or over gRPC).
//!
//! Uploads are not here: they stream through the service that stores them
//! ([`MediaService::upload`](crate::MediaService::upload), REST `POST /api/v1/media`).

use async_trait::async_trait;
use nova_core::{Principal, Result, UserId};

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
    /// The uploads among `ids` the viewer may see (at most [`MAX_GET_MANY`] ids), in the
    /// order asked; the others are left out. Signed out (`None`), only ready ones: the
    /// media of a public post render for everyone.
    async fn get_many(&self, viewer: Option<&Principal>, ids: &[MediaId]) -> Result<Vec<Media>>;
    /// Changes the alt text and/or focal point of the caller's upload.
    async fn update(
        &self,
        principal: &Principal,
        id: MediaId,
        update: MediaUpdate,
    ) -> Result<Media>;
    /// Deletes the caller's upload and its files.
    async fn delete(&self, principal: &Principal, id: MediaId) -> Result<()>;
    /// Marks `owner`'s uploads `ids` as used by `target` (e.g. [`post_target`]), all or
    /// none: `InvalidArgument` on `media_ids` when one is not `owner`'s, not ready or
    /// already used elsewhere. `target` then holds exactly `ids`: uploads it held before
    /// are deleted, rows and files (a replaced avatar). For the domain that already authorized `owner` (content creating
    /// `owner`'s post); over gRPC an internal RPC, refused without a service token.
    async fn attach(&self, owner: UserId, ids: &[MediaId], target: &str) -> Result<()>;
}

/// What a post's media are attached to: deleting the post deletes them
/// ([`MediaCleanup`](crate::consumer::MediaCleanup)).
pub fn post_target(post: nova_core::PostId) -> String {
    format!("post:{post}")
}
