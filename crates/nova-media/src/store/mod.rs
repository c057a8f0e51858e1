//! The media Store port and its SQL adapter (one set of queries for SQLite and
//! PostgreSQL).

mod sql;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};

use crate::model::{FocalPoint, Media, MediaId, MediaState, Variant};

pub use sql::SqlMediaStore;

/// What processing produced, stored when an upload turns ready.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completed {
    /// Width after orientation.
    pub width: Option<u32>,
    /// Height after orientation.
    pub height: Option<u32>,
    /// Milliseconds (video, audio).
    pub duration_ms: Option<u64>,
    /// The stored renditions.
    pub variants: Vec<Variant>,
    /// blurhash.sh placeholder.
    pub blurhash: Option<String>,
    /// 64-bit pHash, hex.
    pub phash: Option<String>,
    /// The original's key when it is kept (`None`: it was dropped).
    pub original_key: Option<String>,
}

/// Media storage.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores a new upload.
    async fn insert(&self, media: &Media) -> Result<()>;
    /// One upload, whoever owns it.
    async fn get(&self, id: MediaId) -> Result<Option<Media>>;
    /// Several uploads (missing ones left out), in no particular order.
    async fn get_many(&self, ids: &[MediaId]) -> Result<Vec<Media>>;
    /// Moves `id` from `from` to `to` (refused by [`MediaState::may_become`] otherwise);
    /// `false` when it was not in `from` (or is gone).
    async fn transition(
        &self,
        id: MediaId,
        from: MediaState,
        to: MediaState,
        now: Timestamp,
    ) -> Result<bool>;
    /// processing → ready with what processing made; `false` when it was not processing.
    async fn complete(&self, id: MediaId, done: &Completed, now: Timestamp) -> Result<bool>;
    /// pending or processing → failed with `reason`; `false` when in neither.
    async fn fail(&self, id: MediaId, reason: &str, now: Timestamp) -> Result<bool>;
    /// Sets the alt text and/or focal point of `owner`'s upload `id`; `None` when it is
    /// missing or someone else's.
    async fn describe(
        &self,
        id: MediaId,
        owner: UserId,
        alt_text: Option<&str>,
        focus: Option<FocalPoint>,
        now: Timestamp,
    ) -> Result<Option<Media>>;
    /// Deletes `owner`'s upload `id`, answering the deleted row (its objects are the
    /// caller's to delete); `None` when missing or someone else's.
    async fn delete(&self, id: MediaId, owner: UserId) -> Result<Option<Media>>;
    /// Marks `owner`'s unattached uploads `ids` as used by `target`, all or none;
    /// answers whether all of them were `owner`'s, ready, and unattached or already
    /// `target`'s (so a retry succeeds).
    async fn attach(
        &self,
        ids: &[MediaId],
        owner: UserId,
        target: &str,
        now: Timestamp,
    ) -> Result<bool>;
    /// Up to `limit` unattached uploads created before `before`, oldest first.
    async fn unattached_before(&self, before: Timestamp, limit: u32) -> Result<Vec<Media>>;
    /// Deletes `id` if it is still unattached; whether it did.
    async fn remove_unattached(&self, id: MediaId) -> Result<bool>;
    /// Deletes the uploads attached to `target` other than `keep`, answering the deleted
    /// rows: every one of a deleted post's (`keep` empty), or what a new avatar replaced.
    async fn remove_attached(&self, target: &str, keep: &[MediaId]) -> Result<Vec<Media>>;
    /// Deletes up to `limit` uploads of `owner`, answering the deleted rows.
    async fn remove_owned_by(&self, owner: UserId, limit: u32) -> Result<Vec<Media>>;
}
