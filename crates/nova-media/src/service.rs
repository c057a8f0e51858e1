//! [`MediaService`]: uploads (streamed to a temporary file, checked, processed, stored),
//! authorization, signed URLs and the cleanup of unattached uploads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, Timestamp, UserId};
use nova_kv::{InProcessRateLimiter, Quota, RateLimiter};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::api::{MAX_GET_MANY, MediaApi};
use crate::model::{
    FocalPoint, Media, MediaId, MediaKind, MediaState, MediaUpdate, SizeCaps, Variant, human_bytes,
    validate_alt_text,
};
use crate::pipeline::{self, Processed};
use crate::probe::{SNIFF_LEN, Sniffed, sniff};
use crate::storage::Storage;
use crate::store::{Completed, MediaStore};

/// Uploads per user per window, as Mastodon allows (30 per 30 minutes).
pub const UPLOAD_QUOTA: Quota = Quota::new(30, Duration::from_secs(30 * 60));
/// How long an upload may stay unattached before the cleanup job deletes it.
pub const UNATTACHED_TTL: Duration = Duration::from_secs(24 * 3600);
/// Images decoded at once (each may take up to the decoder's memory limit).
pub const CONCURRENT_DECODES: usize = 2;

/// Describes the media metrics for `/metrics` (call once per process).
pub fn describe_metrics() {
    metrics::describe_counter!(
        "nova_media_uploads_total",
        "Uploads stored, by kind and resulting state"
    );
    metrics::describe_counter!(
        "nova_media_bytes_uploaded_total",
        metrics::Unit::Bytes,
        "Bytes of stored uploads, by kind"
    );
    metrics::describe_counter!(
        "nova_media_refused_total",
        "Images refused by the checks or the decoder (4xx)"
    );
    metrics::describe_counter!(
        "nova_media_failures_total",
        "Uploads that ended failed (storage errors)"
    );
    metrics::describe_histogram!(
        "nova_media_processing_seconds",
        metrics::Unit::Seconds,
        "Time to check, decode and render one image"
    );
}

/// The object key of a variant.
pub fn variant_key(id: MediaId, name: &str, format: &str) -> String {
    format!("v/{id}/{name}.{format}")
}

/// The object key of a kept original.
pub fn original_key(id: MediaId) -> String {
    format!("o/{id}")
}

fn not_found() -> Error {
    Error::from_kind(ErrorKind::NotFound)
}

/// Removes the temporary upload file when dropped, whatever happened.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The media domain.
pub struct MediaService {
    store: Arc<dyn MediaStore>,
    storage: Storage,
    temp_dir: PathBuf,
    clock: SharedClock,
    limiter: Arc<dyn RateLimiter>,
    quota: Quota,
    caps: SizeCaps,
    url_ttl: Duration,
    decoding: Arc<Semaphore>,
}

impl MediaService {
    /// Over `store` (rows) and `storage` (files); uploads are spooled to `temp_dir`.
    pub fn new(store: Arc<dyn MediaStore>, storage: Storage, temp_dir: impl Into<PathBuf>) -> Self {
        Self {
            store,
            storage,
            temp_dir: temp_dir.into(),
            clock: SystemClock::shared(),
            limiter: Arc::new(InProcessRateLimiter::new(SystemClock::shared())),
            quota: UPLOAD_QUOTA,
            caps: SizeCaps::default(),
            url_ttl: Duration::from_secs(3600),
            decoding: Arc::new(Semaphore::new(CONCURRENT_DECODES)),
        }
    }

    /// Counts uploads against `quota` per user in `limiter` (shared across replicas when
    /// it is Redis).
    pub fn with_limiter(mut self, limiter: Arc<dyn RateLimiter>, quota: Quota) -> Self {
        self.limiter = limiter;
        self.quota = quota;
        self
    }

    /// Replaces the size caps.
    pub fn with_caps(mut self, caps: SizeCaps) -> Self {
        self.caps = caps;
        self
    }

    /// How long signed URLs stay valid.
    pub fn with_url_ttl(mut self, ttl: Duration) -> Self {
        self.url_ttl = ttl;
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The object storage.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Uploads a file for the caller from `body`, streamed to a temporary file (never
    /// all in memory) and capped per kind; `declared_len` (Content-Length) is refused
    /// early when over the cap.
    ///
    /// The type comes from the magic bytes. Images and GIFs are checked (whole file,
    /// header dimensions within the pixel budget), decoded under limits and turned into
    /// metadata-free variants before the answer: a file that fails is refused with a 4xx
    /// naming why and leaves nothing behind. Videos and audio are stored as they are,
    /// `pending`, for the transcoding slice.
    pub async fn upload<S, E>(
        &self,
        principal: &Principal,
        body: S,
        declared_len: Option<u64>,
    ) -> Result<Media>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let owner = principal.user_id;
        let largest = self.caps.largest();
        if let Some(len) = declared_len
            && len > largest
        {
            return Err(too_large(None, largest));
        }
        let decision = self
            .limiter
            .check(&format!("media:upload:{owner}"), &self.quota)
            .await?;
        if !decision.allowed {
            return Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "at most {} uploads per {} minutes; try again in {} s",
                    self.quota.limit,
                    self.quota.period.as_secs() / 60,
                    decision.retry_after.as_secs().max(1)
                ),
            ));
        }
        let id = MediaId::new();
        tokio::fs::create_dir_all(&self.temp_dir)
            .await
            .map_err(|e| {
                Error::internal(format!("cannot create {}: {e}", self.temp_dir.display()))
            })?;
        let temp = TempFile(self.temp_dir.join(format!("{id}.upload")));
        let (sniffed, size) = self.spool(body, declared_len, &temp.0).await?;
        let now = self.clock.now();
        let mut media = Media {
            id,
            owner_id: owner,
            kind: sniffed.kind,
            mime: sniffed.mime.to_owned(),
            state: MediaState::Pending,
            failure: None,
            size_bytes: size,
            original_key: None,
            variants: Vec::new(),
            width: None,
            height: None,
            duration_ms: None,
            blurhash: None,
            phash: None,
            alt_text: String::new(),
            focus: None,
            created_at: now,
            updated_at: now,
            attached_to: None,
        };
        match sniffed.format {
            Some(format) => {
                let processed = self.decode(&temp.0, format).await?;
                self.store.insert(&media).await?;
                self.store
                    .transition(
                        id,
                        MediaState::Pending,
                        MediaState::Processing,
                        self.clock.now(),
                    )
                    .await?;
                self.finish(&mut media, processed).await?;
            }
            None => {
                // Videos and audio wait, stored as received, for transcoding.
                let key = original_key(id);
                self.storage.put_file(&key, &temp.0, sniffed.mime).await?;
                media.original_key = Some(key);
                if let Err(e) = self.store.insert(&media).await {
                    let _ = self.storage.delete(&original_key(id)).await;
                    return Err(e);
                }
            }
        }
        metrics::counter!("nova_media_uploads_total", "kind" => media.kind.as_str(), "state" => media.state.as_str()).increment(1);
        metrics::counter!("nova_media_bytes_uploaded_total", "kind" => media.kind.as_str())
            .increment(size);
        self.with_urls(media).await
    }

    /// Streams `body` into `path`: sniffs the type from the first bytes, then enforces
    /// that kind's cap as bytes arrive.
    async fn spool<S, E>(
        &self,
        body: S,
        declared_len: Option<u64>,
        path: &Path,
    ) -> Result<(Sniffed, u64)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let mut body = std::pin::pin!(body);
        let read_error = |e: E| Error::invalid("file", format!("the upload broke off: {e}"));
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
        let mut pending: Vec<Bytes> = Vec::new();
        while head.len() < SNIFF_LEN {
            match body.next().await {
                None => break,
                Some(chunk) => {
                    let chunk = chunk.map_err(read_error)?;
                    let take = chunk.len().min(SNIFF_LEN - head.len());
                    head.extend_from_slice(&chunk[..take]);
                    pending.push(chunk);
                }
            }
        }
        if head.is_empty() {
            return Err(Error::invalid("file", "is empty"));
        }
        let sniffed = sniff(&head)?;
        let cap = self.caps.of(sniffed.kind);
        if let Some(len) = declared_len
            && len > cap
        {
            return Err(too_large(Some(sniffed.kind), cap));
        }
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(Error::internal)?;
        let mut total = 0u64;
        let mut write = async |chunk: Bytes, total: &mut u64| -> Result<()> {
            *total += chunk.len() as u64;
            if *total > cap {
                return Err(too_large(Some(sniffed.kind), cap));
            }
            file.write_all(&chunk).await.map_err(Error::internal)
        };
        for chunk in pending {
            write(chunk, &mut total).await?;
        }
        while let Some(chunk) = body.next().await {
            write(chunk.map_err(read_error)?, &mut total).await?;
        }
        file.flush().await.map_err(Error::internal)?;
        file.sync_data().await.map_err(Error::internal)?;
        Ok((sniffed, total))
    }

    /// Checks and decodes the image at `path` off the async threads, at most
    /// [`CONCURRENT_DECODES`] at once.
    async fn decode(&self, path: &Path, format: image::ImageFormat) -> Result<Processed> {
        let _permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::unavailable)?;
        let path = path.to_owned();
        let started = std::time::Instant::now();
        let out = tokio::task::spawn_blocking(move || pipeline::process(&path, format))
            .await
            .map_err(|e| Error::internal(format!("image pipeline panicked: {e}")))?;
        metrics::histogram!("nova_media_processing_seconds")
            .record(started.elapsed().as_secs_f64());
        if out.is_err() {
            metrics::counter!("nova_media_refused_total").increment(1);
        }
        out
    }

    /// Stores the renditions and turns `media` ready, or failed with the reason.
    async fn finish(&self, media: &mut Media, processed: Processed) -> Result<()> {
        let mut variants = Vec::with_capacity(processed.renditions.len());
        let mut failure = None;
        for r in processed.renditions {
            let key = variant_key(media.id, r.name, r.format);
            match self.storage.put_bytes(&key, r.bytes, r.mime).await {
                Ok(size_bytes) => variants.push(Variant {
                    name: r.name.to_owned(),
                    format: r.format.to_owned(),
                    width: r.width,
                    height: r.height,
                    size_bytes,
                    key,
                    url: None,
                }),
                Err(e) => {
                    tracing::warn!(media = %media.id, error = %e, "storing a media variant failed");
                    failure = Some(format!(
                        "storing the {} {} variant failed",
                        r.name, r.format
                    ));
                    break;
                }
            }
        }
        let now = self.clock.now();
        if let Some(reason) = failure {
            for v in &variants {
                let _ = self.storage.delete(&v.key).await;
            }
            self.store.fail(media.id, &reason, now).await?;
            metrics::counter!("nova_media_failures_total").increment(1);
            media.state = MediaState::Failed;
            media.failure = Some(reason);
            media.updated_at = now;
            return Ok(());
        }
        let done = Completed {
            width: Some(processed.width),
            height: Some(processed.height),
            duration_ms: None,
            variants,
            blurhash: Some(processed.blurhash),
            phash: Some(processed.phash),
            original_key: None,
        };
        if !self.store.complete(media.id, &done, now).await? {
            return Err(Error::internal(
                "media left the processing state while processing",
            ));
        }
        media.state = MediaState::Ready;
        media.width = done.width;
        media.height = done.height;
        media.variants = done.variants;
        media.blurhash = done.blurhash;
        media.phash = done.phash;
        media.updated_at = now;
        Ok(())
    }

    /// `media` with a signed URL on every variant.
    async fn with_urls(&self, mut media: Media) -> Result<Media> {
        let now = self.clock.now().timestamp();
        for v in &mut media.variants {
            v.url = Some(self.storage.url(&v.key, now, self.url_ttl).await?);
        }
        Ok(media)
    }

    /// Whether `viewer` may see `media`: its owner always, anyone once it is ready.
    fn visible(viewer: Option<&Principal>, media: &Media) -> bool {
        media.state == MediaState::Ready || viewer.is_some_and(|p| media.owner_id == p.user_id)
    }

    /// Deletes the uploads attached to `target` (a deleted post's), rows and files;
    /// answers how many went. Idempotent: a second call finds none.
    pub async fn delete_attached_to(&self, target: &str) -> Result<usize> {
        let gone = self.store.remove_attached(target, &[]).await?;
        for media in &gone {
            self.delete_files(media).await;
        }
        Ok(gone.len())
    }

    /// Deletes every upload of `owner` (a deleted account's), rows and files, in
    /// batches; answers how many went.
    pub async fn delete_owned_by(&self, owner: UserId) -> Result<usize> {
        let mut removed = 0;
        loop {
            let batch = self.store.remove_owned_by(owner, 100).await?;
            for media in &batch {
                self.delete_files(media).await;
            }
            removed += batch.len();
            if batch.len() < 100 {
                return Ok(removed);
            }
        }
    }

    /// Deletes uploads left unattached for longer than `ttl`, rows and files, in
    /// batches; answers how many went.
    pub async fn cleanup_unattached(&self, ttl: Duration) -> Result<usize> {
        let ttl = chrono::Duration::from_std(ttl).map_err(Error::internal)?;
        let before = self.clock.now() - ttl;
        let mut removed = 0;
        loop {
            let batch = self.store.unattached_before(before, 100).await?;
            if batch.is_empty() {
                return Ok(removed);
            }
            let full = batch.len() == 100;
            for media in batch {
                // The row first: once it is gone nothing hands out the files' URLs.
                if self.store.remove_unattached(media.id).await? {
                    self.delete_files(&media).await;
                    removed += 1;
                }
            }
            if !full {
                return Ok(removed);
            }
        }
    }

    async fn delete_files(&self, media: &Media) {
        let keys = media
            .variants
            .iter()
            .map(|v| v.key.clone())
            .chain(media.original_key.clone());
        for key in keys {
            if let Err(e) = self.storage.delete(&key).await {
                tracing::warn!(media = %media.id, key, error = %e, "deleting a media file failed");
            }
        }
    }

    /// Runs [`cleanup_unattached`](Self::cleanup_unattached) with [`UNATTACHED_TTL`]
    /// every `every` until `stop` fires.
    pub fn spawn_cleanup(
        self: Arc<Self>,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {
                        match self.cleanup_unattached(UNATTACHED_TTL).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(removed = n, "media: unattached uploads deleted"),
                            Err(e) => tracing::warn!(error = %e, "media: cleaning up unattached uploads failed"),
                        }
                    }
                }
            }
        })
    }
}

fn too_large(kind: Option<MediaKind>, cap: u64) -> Error {
    let what = match kind {
        None => "an upload".to_owned(),
        Some(MediaKind::Image) => "an image".to_owned(),
        Some(k) => format!("a {}", k.as_str()),
    };
    Error::new(
        ErrorKind::PayloadTooLarge,
        format!("file: larger than {}, the cap for {what}", human_bytes(cap)),
    )
}

#[async_trait]
impl MediaApi for MediaService {
    async fn get(&self, principal: &Principal, id: MediaId) -> Result<Media> {
        match self.store.get(id).await? {
            Some(m) if Self::visible(Some(principal), &m) => self.with_urls(m).await,
            _ => Err(not_found()),
        }
    }

    async fn get_many(&self, viewer: Option<&Principal>, ids: &[MediaId]) -> Result<Vec<Media>> {
        nova_core::error::cap("ids", ids.len(), MAX_GET_MANY)?;
        let mut found = self.store.get_many(ids).await?;
        found.retain(|m| Self::visible(viewer, m));
        let mut out = Vec::with_capacity(found.len());
        for id in ids {
            if let Some(at) = found.iter().position(|m| m.id == *id) {
                out.push(self.with_urls(found.swap_remove(at)).await?);
            }
        }
        Ok(out)
    }

    async fn update(
        &self,
        principal: &Principal,
        id: MediaId,
        update: MediaUpdate,
    ) -> Result<Media> {
        let alt = update
            .alt_text
            .as_deref()
            .map(validate_alt_text)
            .transpose()?;
        let focus = update.focus.map(FocalPoint::validate).transpose()?;
        if alt.is_none() && focus.is_none() {
            return Err(Error::invalid("alt_text", "send alt_text and/or focus"));
        }
        match self
            .store
            .describe(
                id,
                principal.user_id,
                alt.as_deref(),
                focus,
                self.clock.now(),
            )
            .await?
        {
            Some(m) => self.with_urls(m).await,
            None => Err(not_found()),
        }
    }

    async fn delete(&self, principal: &Principal, id: MediaId) -> Result<()> {
        match self.store.delete(id, principal.user_id).await? {
            Some(media) => {
                self.delete_files(&media).await;
                Ok(())
            }
            None => Err(not_found()),
        }
    }

    async fn attach(&self, owner: UserId, ids: &[MediaId], target: &str) -> Result<()> {
        nova_core::error::cap("media_ids", ids.len(), MAX_GET_MANY)?;
        if self
            .store
            .attach(ids, owner, target, self.clock.now())
            .await?
        {
            // What the target held before and no longer does (a replaced avatar) goes.
            for media in self.store.remove_attached(target, ids).await? {
                self.delete_files(&media).await;
            }
            Ok(())
        } else {
            Err(Error::invalid(
                "media_ids",
                "every media id must be the author's own, ready and not used elsewhere",
            ))
        }
    }
}
