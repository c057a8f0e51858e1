//! Plain media types and the limits uploads are checked against.

use nova_core::{Error, Result, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// One uploaded file (image, GIF, video or audio) and what was made from it: the id the
/// other domains (content, users, chat) hold.
pub use nova_core::MediaId;

/// Longest alt text, in characters (Unicode scalar values), as Mastodon allows.
pub const MAX_ALT_TEXT: usize = 1_500;

/// The largest image (width × height) decoded at all: anything bigger is refused from
/// its header, before a single pixel is decoded.
pub const MAX_PIXELS: u64 = 50_000_000;

/// The sizes (longest side, in pixels) of the variants made from an image; an image
/// smaller than a size gets that variant at its own size (never upscaled).
pub const VARIANT_SIZES: [(&str, u32); 3] = [("thumb", 128), ("small", 640), ("large", 1920)];

/// What a file is, decided from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A still image (JPEG, PNG, WebP).
    Image,
    /// A GIF (possibly animated; processed from its first frame).
    Gif,
    /// A video (MP4, WebM, MOV): accepted and stored, transcoded by a later slice.
    Video,
    /// Audio (MP3, OGG, M4A): accepted and stored, transcoded by a later slice.
    Audio,
}

impl MediaKind {
    /// Every kind.
    pub const ALL: [MediaKind; 4] = [Self::Image, Self::Gif, Self::Video, Self::Audio];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Gif => "gif",
            Self::Video => "video",
            Self::Audio => "audio",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| Error::invalid("kind", "must be image, gif, video or audio"))
    }
}

/// Where an upload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    /// Stored, waiting to be processed (videos and audio wait for the transcoding slice).
    Pending,
    /// Being processed.
    Processing,
    /// Variants made; usable in posts.
    Ready,
    /// Processing failed; [`Media::failure`] says why.
    Failed,
}

impl MediaState {
    /// Every state.
    pub const ALL: [MediaState; 4] = [Self::Pending, Self::Processing, Self::Ready, Self::Failed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| Error::invalid("state", "must be pending, processing, ready or failed"))
    }

    /// Whether the life of an upload may go from `self` to `next`:
    /// pending → processing → ready | failed (and pending → failed).
    pub fn may_become(self, next: MediaState) -> bool {
        matches!(
            (self, next),
            (Self::Pending, Self::Processing)
                | (Self::Pending, Self::Failed)
                | (Self::Processing, Self::Ready)
                | (Self::Processing, Self::Failed)
        )
    }
}

/// The point of interest of an image, for cropping: both coordinates in −1.0..=1.0
/// (Mastodon's convention: (0, 0) is the centre, (−1, 1) the top left).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FocalPoint {
    /// Horizontal, −1 (left) to 1 (right).
    pub x: f64,
    /// Vertical, −1 (bottom) to 1 (top).
    pub y: f64,
}

impl FocalPoint {
    /// Checks both coordinates (`focus.x` / `focus.y` name the bad one).
    pub fn validate(self) -> Result<Self> {
        for (field, v) in [("focus.x", self.x), ("focus.y", self.y)] {
            if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
                return Err(Error::invalid(field, "must be a number from -1.0 to 1.0"));
            }
        }
        Ok(self)
    }
}

/// One stored rendition of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// `thumb`, `small` or `large` (see [`VARIANT_SIZES`]).
    pub name: String,
    /// `webp` or `jpeg`.
    pub format: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Bytes.
    pub size_bytes: u64,
    /// Object-storage key.
    pub key: String,
    /// A signed, expiring URL, filled in when the media is read through the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Its id.
    pub id: MediaId,
    /// Who uploaded it.
    pub owner_id: UserId,
    /// What it is (from its magic bytes).
    pub kind: MediaKind,
    /// Its MIME type (from its magic bytes).
    pub mime: String,
    /// Where it is in processing.
    pub state: MediaState,
    /// Why processing failed (only when [`MediaState::Failed`]).
    pub failure: Option<String>,
    /// Bytes uploaded.
    pub size_bytes: u64,
    /// The uploaded file as received, when it is kept (videos and audio until transcoded;
    /// an image's original is dropped once its metadata-free variants exist). Never
    /// served to anyone but its owner's own pipeline.
    #[serde(skip_serializing)]
    pub original_key: Option<String>,
    /// The renditions made from it.
    pub variants: Vec<Variant>,
    /// Pixels, after orientation.
    pub width: Option<u32>,
    /// Pixels, after orientation.
    pub height: Option<u32>,
    /// Milliseconds (videos and audio, once probed).
    pub duration_ms: Option<u64>,
    /// A compact placeholder (blurhash.sh), for images.
    pub blurhash: Option<String>,
    /// 64-bit perceptual hash (pHash, 16 hex digits), for trust & safety matching.
    pub phash: Option<String>,
    /// The description read to those who cannot see it (up to [`MAX_ALT_TEXT`] characters).
    pub alt_text: String,
    /// Where to crop around.
    pub focus: Option<FocalPoint>,
    /// When it was uploaded.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// What uses it (e.g. `post:<id>`), or `None` while unattached (deleted after 24 h).
    pub attached_to: Option<String>,
}

/// Checks alt text: at most [`MAX_ALT_TEXT`] characters, no control characters other
/// than line breaks and tabs.
pub fn validate_alt_text(text: &str) -> Result<String> {
    let count = text.chars().count();
    if count > MAX_ALT_TEXT {
        return Err(Error::invalid(
            "alt_text",
            format!("is {count} characters; at most {MAX_ALT_TEXT} are allowed"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::invalid(
            "alt_text",
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A change to an upload's description (absent fields stay as they are).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaUpdate {
    /// New alt text (`""` clears it).
    #[serde(default)]
    pub alt_text: Option<String>,
    /// New focal point.
    #[serde(default)]
    pub focus: Option<FocalPoint>,
}

/// Where uploads of each kind are capped, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeCaps {
    /// JPEG, PNG, WebP.
    pub image: u64,
    /// GIF.
    pub gif: u64,
    /// Video.
    pub video: u64,
    /// Audio.
    pub audio: u64,
}

impl Default for SizeCaps {
    /// Mastodon's: 16 MiB images, 99 MiB video and audio (GIFs as images).
    fn default() -> Self {
        Self {
            image: 16 * 1024 * 1024,
            gif: 16 * 1024 * 1024,
            video: 99 * 1024 * 1024,
            audio: 99 * 1024 * 1024,
        }
    }
}

impl SizeCaps {
    /// The cap of `kind`.
    pub fn of(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image,
            MediaKind::Gif => self.gif,
            MediaKind::Video => self.video,
            MediaKind::Audio => self.audio,
        }
    }

    /// The largest cap (what is allowed before the kind is known).
    pub fn largest(&self) -> u64 {
        self.image.max(self.gif).max(self.video).max(self.audio)
    }
}

/// Human-readable bytes for error messages (`16 MiB`).
pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_text_is_capped_in_characters_and_names_the_field() {
        assert!(validate_alt_text(&"é".repeat(MAX_ALT_TEXT)).is_ok());
        let err = validate_alt_text(&"é".repeat(MAX_ALT_TEXT + 1)).unwrap_err();
        assert_eq!(err.field(), Some("alt_text"));
        assert!(err.message().contains("1501"), "{}", err.message());
        assert_eq!(
            validate_alt_text("a\u{0}b").unwrap_err().field(),
            Some("alt_text")
        );
    }

    #[test]
    fn focal_point_is_checked() {
        assert!(FocalPoint { x: -1.0, y: 1.0 }.validate().is_ok());
        let err = FocalPoint { x: 0.0, y: 1.5 }.validate().unwrap_err();
        assert_eq!(err.field(), Some("focus.y"));
        let err = FocalPoint {
            x: f64::NAN,
            y: 0.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field(), Some("focus.x"));
    }

    #[test]
    fn states_only_move_forward() {
        use MediaState::*;
        assert!(Pending.may_become(Processing));
        assert!(Processing.may_become(Ready));
        assert!(Processing.may_become(Failed));
        assert!(!Ready.may_become(Processing));
        assert!(!Failed.may_become(Ready));
        assert!(!Pending.may_become(Ready));
        for s in MediaState::ALL {
            assert_eq!(MediaState::parse(s.as_str()).unwrap(), s);
        }
        for k in MediaKind::ALL {
            assert_eq!(MediaKind::parse(k.as_str()).unwrap(), k);
        }
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_bytes(2048), "2 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
