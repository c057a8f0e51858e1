//! What a file is, decided before anything decodes it: the type from its magic bytes
//! (never the file name or the client's `Content-Type`), that an image file is whole
//! (no truncation, nothing appended after its end: polyglots), and its dimensions read
//! from the header against the pixel budget.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use image::{ImageFormat, ImageReader};
use nova_core::{Error, ErrorKind, Result};

use crate::model::{MAX_PIXELS, MediaKind};

/// Bytes of a file's start that are enough to recognise every allowed type.
pub const SNIFF_LEN: usize = 512;

/// What the allowed types are, for error messages.
pub const ALLOWED: &str = "JPEG, PNG, WebP, GIF, MP4, WebM, MOV, MP3, OGG, M4A";

/// A recognised, allowed file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The kind it is stored as.
    pub kind: MediaKind,
    /// Its MIME type.
    pub mime: &'static str,
    /// The image format, for images and GIFs.
    pub format: Option<ImageFormat>,
}

/// Recognises `head` (the file's first bytes, up to [`SNIFF_LEN`]) by its magic bytes.
///
/// Unknown or not-allowed types are `InvalidArgument` on `file`, naming what it is.
pub fn sniff(head: &[u8]) -> Result<Sniffed> {
    let Some(t) = infer::get(head) else {
        return Err(Error::invalid(
            "file",
            format!("its type is not recognisable from its content; allowed: {ALLOWED}"),
        ));
    };
    let image = |kind, mime, format| Sniffed {
        kind,
        mime,
        format: Some(format),
    };
    let other = |kind, mime| Sniffed {
        kind,
        mime,
        format: None,
    };
    Ok(match t.mime_type() {
        "image/jpeg" => image(MediaKind::Image, "image/jpeg", ImageFormat::Jpeg),
        "image/png" => image(MediaKind::Image, "image/png", ImageFormat::Png),
        "image/webp" => image(MediaKind::Image, "image/webp", ImageFormat::WebP),
        "image/gif" => image(MediaKind::Gif, "image/gif", ImageFormat::Gif),
        "video/mp4" => other(MediaKind::Video, "video/mp4"),
        "video/webm" => other(MediaKind::Video, "video/webm"),
        "video/quicktime" => other(MediaKind::Video, "video/quicktime"),
        "audio/mpeg" => other(MediaKind::Audio, "audio/mpeg"),
        "audio/ogg" => other(MediaKind::Audio, "audio/ogg"),
        "audio/m4a" | "audio/x-m4a" | "audio/mp4" => other(MediaKind::Audio, "audio/mp4"),
        mime => {
            return Err(Error::invalid(
                "file",
                format!("is {mime} (from its content), which is not allowed; allowed: {ALLOWED}"),
            ));
        }
    })
}

/// How far from its end a file is searched for its end marker.
const TAIL: u64 = 64 * 1024;

fn io_error(e: std::io::Error) -> Error {
    Error::internal(e)
}

/// Checks that the image file at `path` ends where its format says it ends: a truncated
/// file or one with data appended after the image (a polyglot: an image that is also a
/// ZIP, an HTML page, a script ...) is refused on `file`, naming which.
pub fn check_whole(path: &Path, format: ImageFormat) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    let start = len.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start)).map_err(io_error)?;
    let mut tail = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
    file.read_to_end(&mut tail).map_err(io_error)?;
    let name = format_name(format);
    let truncated = || {
        Error::invalid(
            "file",
            format!("the {name} is truncated (its end is missing)"),
        )
    };
    let appended = |extra: usize| {
        Error::invalid(
            "file",
            format!(
                "{extra} bytes follow the end of the {name} (a polyglot file?); upload the image alone"
            ),
        )
    };
    match format {
        ImageFormat::Jpeg => {
            // Entropy-coded data never contains FF D9 (0xFF is stuffed), so the last one
            // is the end of the image unless an appended payload holds another.
            match tail.windows(2).rposition(|w| w == [0xFF, 0xD9]) {
                None => Err(truncated()),
                Some(at) => match trailing(&tail[at + 2..]) {
                    0 => Ok(()),
                    extra => Err(appended(extra)),
                },
            }
        }
        ImageFormat::Png => {
            const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
            match tail.windows(12).rposition(|w| w == IEND) {
                None => Err(truncated()),
                Some(at) => match tail.len() - at - 12 {
                    0 => Ok(()),
                    extra => Err(appended(extra)),
                },
            }
        }
        ImageFormat::WebP => {
            let mut header = [0u8; 12];
            file.seek(SeekFrom::Start(0)).map_err(io_error)?;
            file.read_exact(&mut header).map_err(|_| truncated())?;
            let riff = u64::from(u32::from_le_bytes([
                header[4], header[5], header[6], header[7],
            ]));
            let expected = riff + 8 + (riff % 2);
            match len.cmp(&expected) {
                std::cmp::Ordering::Less if len < riff + 8 => Err(truncated()),
                std::cmp::Ordering::Greater => Err(appended(
                    usize::try_from(len - expected).unwrap_or(usize::MAX),
                )),
                _ => Ok(()),
            }
        }
        ImageFormat::Gif => match tail.last() {
            Some(0x3B) => Ok(()),
            _ => Err(Error::invalid(
                "file",
                "the GIF does not end with its trailer: it is truncated or has data appended",
            )),
        },
        _ => Ok(()),
    }
}

/// Bytes after an end marker that are not zero padding (some encoders pad).
fn trailing(rest: &[u8]) -> usize {
    if rest.len() <= 16 && rest.iter().all(|b| *b == 0) {
        0
    } else {
        rest.len()
    }
}

/// The format's usual name.
pub fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        _ => "image",
    }
}

/// The image's width and height as its header states them, refused (413, naming the
/// budget) when over [`MAX_PIXELS`]: nothing beyond the header has been read.
pub fn header_dimensions(path: &Path, format: ImageFormat) -> Result<(u32, u32)> {
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(format);
    let (w, h) = reader.into_dimensions().map_err(|e| {
        Error::invalid(
            "file",
            format!("is not a readable {} ({e})", format_name(format)),
        )
    })?;
    check_budget(w, h)?;
    Ok((w, h))
}

/// Refuses `w × h` over [`MAX_PIXELS`] (or a zero side).
pub fn check_budget(w: u32, h: u32) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(Error::invalid("file", "the image has no pixels"));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_PIXELS {
        return Err(Error::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "file: the image is {w}×{h} ({:.1} megapixels); at most {} megapixels are accepted",
                pixels as f64 / 1e6,
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_magic_bytes() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(sniff(&png).unwrap().mime, "image/png");
        assert_eq!(sniff(b"GIF89a....").unwrap().kind, MediaKind::Gif);
        let gzip = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0];
        let err = sniff(&gzip).unwrap_err();
        assert_eq!(err.field(), Some("file"));
        assert!(
            err.message().contains("application/gzip"),
            "{}",
            err.message()
        );
        let err = sniff(b"just some text").unwrap_err();
        assert!(
            err.message().contains("not recognisable"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_pixel_budget_names_itself() {
        assert!(check_budget(7071, 7071).is_ok());
        let err = check_budget(64_250, 64_250).unwrap_err();
        assert_eq!(err.http_status(), 413);
        assert!(err.message().contains("64250×64250"), "{}", err.message());
        assert!(err.message().contains("50 megapixels"), "{}", err.message());
        assert_eq!(check_budget(0, 10).unwrap_err().http_status(), 400);
    }
}
