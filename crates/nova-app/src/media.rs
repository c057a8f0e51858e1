//! The media domain in this process: local disk under `NOVA_DATA_DIR/media` (served by
//! this process behind signed URLs) or S3 when `S3_BUCKET` is set.

use std::sync::Arc;

use async_trait::async_trait;
use nova_content::Attachments;
use nova_core::config::NovaConfig;
use nova_core::{MediaId, PostId, Result, UserId};
use nova_media::signing::UrlSigner;
use nova_media::storage::{Storage, local_dir};
use nova_media::store::SqlMediaStore;
use nova_media::{MediaApi, MediaService, MediaSettings, UPLOAD_QUOTA, post_target};
use nova_runtime::{CURSOR_KEY_FILE, Infra};
use nova_user::{ProfileMedia, ProfileSlot};

/// The deployment secret local media URLs are signed with (a key derived from it, so a
/// signed URL is no cursor and no cursor a signed URL): `NOVA_CURSOR_SECRET`, else the
/// cursor key file the process keeps in its data directory.
fn signing_secret(config: &NovaConfig) -> Result<Vec<u8>, String> {
    if let Some(secret) = &config.cursor_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join(CURSOR_KEY_FILE);
    // Infra::cursor_codec created it (every stateful plan builds its cursors first).
    let key = std::fs::read_to_string(&path)
        .map_err(|e| format!("media: cannot read the key file {}: {e}", path.display()))?;
    Ok(key.trim().as_bytes().to_vec())
}

/// The media service over the process's database, rate limiter and object storage.
pub fn embedded(config: &NovaConfig, infra: &Infra) -> Result<MediaService, String> {
    let settings = MediaSettings::from_source(&config.source).map_err(|e| e.to_string())?;
    let storage = match &settings.s3 {
        Some(s3) => Storage::s3(s3).map_err(|e| format!("media: {}", e.message()))?,
        None => Storage::local(
            &local_dir(&config.data_dir),
            UrlSigner::derived(&signing_secret(config)?),
            &settings.public_base_url,
        )
        .map_err(|e| format!("media: {}", e.message()))?,
    };
    tracing::info!(storage = ?storage, "media storage");
    nova_media::describe_metrics();
    Ok(MediaService::new(
        Arc::new(SqlMediaStore::new(infra.db.clone())),
        storage,
        config.data_dir.join("media-uploads"),
    )
    .with_limiter(infra.kv.rate_limiter.clone(), UPLOAD_QUOTA)
    .with_url_ttl(settings.url_ttl))
}

/// Content's [`Attachments`] and the users domain's [`ProfileMedia`] answered by the
/// media domain (in-process, or over gRPC with this service's token): a post's media
/// become `post:<id>`'s, a profile picture `avatar:<user>`'s or `banner:<user>`'s.
pub struct MediaPorts(pub Arc<dyn MediaApi>);

#[async_trait]
impl Attachments for MediaPorts {
    async fn attach(&self, author: UserId, post: PostId, media: &[MediaId]) -> Result<()> {
        self.0.attach(author, media, &post_target(post)).await
    }
}

#[async_trait]
impl ProfileMedia for MediaPorts {
    async fn claim(&self, owner: UserId, media: MediaId, slot: ProfileSlot) -> Result<()> {
        let target = format!("{}:{owner}", slot.as_str());
        self.0.attach(owner, &[media], &target).await
    }
}
