//! `Media`: uploaded images (and, once transcoded, video and audio) as posts and
//! profiles show them, with signed variant URLs.

use async_graphql::{ID, InputObject, Object, SimpleObject};
use nova_media::Media as DomainMedia;

/// An upload: its renditions with signed, expiring URLs, its placeholder and alt text.
pub(crate) struct Media {
    pub media: DomainMedia,
    /// The alt text the post gave it, when it gave one (else the upload's own).
    pub alt_text: Option<String>,
}

impl Media {
    pub fn new(media: DomainMedia) -> Self {
        Self {
            media,
            alt_text: None,
        }
    }
}

/// One rendition of an upload.
#[derive(SimpleObject)]
pub(crate) struct MediaVariant {
    /// `thumb` (128 px), `small` (640 px) or `large` (1,920 px); never upscaled.
    pub name: String,
    /// `webp` or `jpeg`.
    pub format: String,
    /// Pixels.
    pub width: i32,
    /// Pixels.
    pub height: i32,
    /// A signed URL that expires (relative to the server when files are on its disk).
    pub url: Option<String>,
}

/// Where to crop around, from -1 (left, bottom) to 1 (right, top).
#[derive(SimpleObject)]
pub(crate) struct FocalPoint {
    /// Horizontal.
    pub x: f64,
    /// Vertical.
    pub y: f64,
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[Object]
impl Media {
    /// The media id.
    async fn id(&self) -> ID {
        ID(self.media.id.to_string())
    }
    /// `image`, `gif`, `video` or `audio` (from the file's bytes).
    async fn kind(&self) -> &str {
        self.media.kind.as_str()
    }
    /// The MIME type.
    async fn mime(&self) -> &str {
        &self.media.mime
    }
    /// `pending`, `processing`, `ready` or `failed`.
    async fn state(&self) -> &str {
        self.media.state.as_str()
    }
    /// Pixels, after orientation.
    async fn width(&self) -> Option<i32> {
        self.media.width.map(int)
    }
    /// Pixels, after orientation.
    async fn height(&self) -> Option<i32> {
        self.media.height.map(int)
    }
    /// Milliseconds, for video and audio.
    async fn duration_ms(&self) -> Option<f64> {
        self.media.duration_ms.map(|d| d as f64)
    }
    /// A compact placeholder to paint while the image loads (blurhash.sh).
    async fn blurhash(&self) -> Option<&str> {
        self.media.blurhash.as_deref()
    }
    /// The description read to those who cannot see it.
    async fn alt_text(&self) -> &str {
        match self.alt_text.as_deref() {
            Some(alt) if !alt.is_empty() => alt,
            _ => &self.media.alt_text,
        }
    }
    /// Where to crop around.
    async fn focus(&self) -> Option<FocalPoint> {
        self.media.focus.map(|f| FocalPoint { x: f.x, y: f.y })
    }
    /// The renditions, smallest first.
    async fn variants(&self) -> Vec<MediaVariant> {
        self.media
            .variants
            .iter()
            .map(|v| MediaVariant {
                name: v.name.clone(),
                format: v.format.clone(),
                width: int(v.width),
                height: int(v.height),
                url: v.url.clone(),
            })
            .collect()
    }
}

/// An upload to attach to a new post.
#[derive(InputObject)]
pub(crate) struct MediaInput {
    /// The id `POST /api/v1/media` answered (the caller's own, ready, unused upload).
    pub id: ID,
    /// Alt text for this post (up to 1,500 characters; else the upload's own).
    #[graphql(default)]
    pub alt_text: String,
}
