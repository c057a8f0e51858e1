//! The media domain in this process: local disk under `NOVA_DATA_DIR/media` (served by
//! this process behind signed URLs) or S3 when `S3_BUCKET` is set.

use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_media::signing::UrlSigner;
use nova_media::storage::{Storage, local_dir};
use nova_media::store::SqlMediaStore;
use nova_media::{MediaService, MediaSettings, UPLOAD_QUOTA};
use nova_runtime::{CURSOR_KEY_FILE, Infra};

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
