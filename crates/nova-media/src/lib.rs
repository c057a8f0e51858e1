//! # nova-media
//!
//! Uploads for posts, profiles and chat, processed so that what is served is safe:
//!
//! - **streamed uploads**: the body goes to a temporary file as it arrives, never all in
//!   memory, capped per kind (16 MiB images and GIFs, 99 MiB video and audio: 413 naming
//!   the cap); 30 uploads per user per 30 minutes (the shared rate limiter of nova-kv);
//! - **checked before decoding**: the type comes from the magic bytes (`infer`), never
//!   from the name or `Content-Type`; an image must be whole (truncated files and data
//!   appended after the image, i.e. polyglots, are refused); its dimensions are read
//!   from the header and anything over 50 megapixels is refused before a pixel is
//!   decoded (pixel floods); the decoder then runs under `image::Limits`, off the async
//!   threads, two at a time;
//! - **images**: orientation applied, variants of 128, 640 and 1,920 px (never upscaled)
//!   in WebP and JPEG re-encoded from pixels only, so no EXIF (GPS above all), XMP or
//!   comment survives; a blurhash and a 64-bit perceptual hash (pHash) for trust &
//!   safety; the upload is `ready`, or `failed` with a reason. Videos and audio are
//!   stored `pending` for the transcoding slice;
//! - **storage** through `object_store`: local disk under `NOVA_DATA_DIR/media`, or S3
//!   (`S3_*`); **delivery** by signed, expiring URLs (HMAC-SHA256 over key and expiry,
//!   constant-time check, 403 when tampered or expired) served here with
//!   `Content-Type`, `Content-Disposition`, `Cache-Control` and ranges, or S3 presigned
//!   GETs;
//! - **authorization** in the service: only the owner sees an upload before it is ready
//!   and only the owner describes or deletes it; anything else answers 404 like a
//!   missing upload; unattached uploads are deleted after 24 h, and a deleted post's
//!   media or a deleted account's uploads with it ([`consumer::MediaCleanup`]).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_core::{Principal, SessionId, UserId};
//! use nova_media::{MediaApi, MediaService, MediaState, signing::UrlSigner, storage::Storage};
//! use nova_media::store::SqlMediaStore;
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let dir = tempfile::tempdir().unwrap();
//! let storage = Storage::local(&dir.path().join("media"), UrlSigner::new(b"a key of thirty-two bytes or more"), "")?;
//! let service = MediaService::new(Arc::new(SqlMediaStore::new(db)), storage, dir.path().join("tmp"));
//!
//! // A 300×200 PNG, sent as a stream of chunks.
//! let mut png = Vec::new();
//! image::RgbImage::from_pixel(300, 200, image::Rgb([200, 80, 40]))
//!     .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
//!     .unwrap();
//! let chunks = png.chunks(1000).map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c))).collect::<Vec<_>>();
//!
//! let me = Principal::user(UserId::new(), SessionId::new());
//! let media = service.upload(&me, futures::stream::iter(chunks), None).await?;
//! assert_eq!((media.state, media.width, media.height), (MediaState::Ready, Some(300), Some(200)));
//! assert!(media.blurhash.is_some());
//! // thumb, small and large, each in WebP and JPEG; never larger than the original.
//! assert_eq!(media.variants.len(), 6);
//! assert!(media.variants.iter().all(|v| v.width <= 300 && v.url.as_deref().is_some_and(|u| u.contains("sig="))));
//!
//! // Someone else sees it (it is ready) but cannot delete it: 404, as if missing.
//! let other = Principal::user(UserId::new(), SessionId::new());
//! assert_eq!(service.get(&other, media.id).await?.id, media.id);
//! assert_eq!(service.delete(&other, media.id).await.unwrap_err().http_status(), 404);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod config;
pub mod consumer;
pub mod grpc;
pub mod http;
pub mod model;
pub mod pipeline;
pub mod probe;
mod service;
pub mod signing;
pub mod storage;
pub mod store;

pub use api::{MAX_GET_MANY, MediaApi, post_target};
pub use config::{MEDIA_ENV_VARS, MediaSettings};
pub use model::{
    FocalPoint, MAX_ALT_TEXT, MAX_PIXELS, Media, MediaId, MediaKind, MediaState, MediaUpdate,
    SizeCaps, VARIANT_SIZES, Variant,
};
pub use service::{
    CONCURRENT_DECODES, MediaService, UNATTACHED_TTL, UPLOAD_QUOTA, describe_metrics, original_key,
    variant_key,
};
