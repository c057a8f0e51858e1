//! The image pipeline (blocking: run it under `spawn_blocking`): header check, decode
//! under [`image::Limits`], orientation applied, then variants re-encoded from pixels
//! only, so no metadata (EXIF with GPS, XMP, ICC comments ...) survives, plus a
//! blurhash and a perceptual hash.

use std::io::{BufReader, Cursor};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage,
};
use image_hasher::{HashAlg, HasherConfig};
use nova_core::{Error, Result};

use crate::model::VARIANT_SIZES;
use crate::probe::{check_budget, check_whole, format_name, header_dimensions};

/// Longest side the decoder accepts (a second fence behind the pixel budget).
pub const MAX_SIDE: u32 = 20_000;
/// Most memory the decoder may allocate.
pub const MAX_DECODE_ALLOC: u64 = 320 * 1024 * 1024;
/// JPEG quality of the variants.
pub const JPEG_QUALITY: u8 = 85;

/// One encoded variant, ready to store.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// `thumb`, `small`, `large`.
    pub name: &'static str,
    /// `webp` or `jpeg`.
    pub format: &'static str,
    /// Its MIME type.
    pub mime: &'static str,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// What the pipeline made of an image.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Width after orientation.
    pub width: u32,
    /// Height after orientation.
    pub height: u32,
    /// Every variant in every format.
    pub renditions: Vec<Rendition>,
    /// blurhash.sh placeholder (4×3 components).
    pub blurhash: String,
    /// 64-bit pHash, 16 hex digits.
    pub phash: String,
}

/// The decoder limits every image is decoded under.
pub fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// Checks, decodes and renders the image file at `path`, of `format` (from its magic
/// bytes). Refusals are `InvalidArgument` on `file` (or 413 over the pixel budget)
/// naming the reason; nothing is decoded before the structure and header checks pass.
pub fn process(path: &Path, format: ImageFormat) -> Result<Processed> {
    check_whole(path, format)?;
    header_dimensions(path, format)?;
    let image = decode(path, format)?;
    render(image)
}

/// Decodes under [`limits`] and applies the EXIF orientation.
pub fn decode(path: &Path, format: ImageFormat) -> Result<DynamicImage> {
    let name = format_name(format);
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => Error::invalid(
            "file",
            format!("decoding the {name} would exceed the decoder's limits ({l})"),
        ),
        e => Error::invalid("file", format!("is not a valid {name}: {e}")),
    };
    let file = std::fs::File::open(path).map_err(Error::internal)?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (w, h) = decoder.dimensions();
    check_budget(w, h)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Renders the variants (largest first, each from the previous one: never upscaled),
/// the blurhash and the perceptual hash of a decoded image.
pub fn render(image: DynamicImage) -> Result<Processed> {
    let (width, height) = (image.width(), image.height());
    let phash = {
        let hasher = HasherConfig::new()
            .hash_alg(HashAlg::Mean)
            .hash_size(8, 8)
            .preproc_dct()
            .to_hasher();
        let hash = hasher.hash_image(&image);
        hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    };
    let mut renditions = Vec::with_capacity(VARIANT_SIZES.len() * 2);
    let mut current = image;
    let mut thumb = None;
    for (name, side) in VARIANT_SIZES.iter().rev() {
        if current.width().max(current.height()) > *side {
            current = current.resize(*side, *side, FilterType::CatmullRom);
        }
        renditions.push(encode_webp(name, &current)?);
        renditions.push(encode_jpeg(name, &current)?);
        if *name == "thumb" {
            thumb = Some(current.clone());
        }
    }
    let thumb = thumb.ok_or_else(|| Error::internal("no thumbnail size configured"))?;
    let rgba = thumb.to_rgba8();
    let blurhash = blurhash::encode(4, 3, rgba.width(), rgba.height(), rgba.as_raw())
        .map_err(|e| Error::internal(format!("blurhash: {e:?}")))?;
    renditions.reverse();
    Ok(Processed {
        width,
        height,
        renditions,
        blurhash,
        phash,
    })
}

/// The image over white, without alpha (JPEG has none).
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
}

fn encode_jpeg(name: &'static str, image: &DynamicImage) -> Result<Rendition> {
    let rgb = flatten(image);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut Cursor::new(&mut bytes), JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(Error::internal)?;
    Ok(Rendition {
        name,
        format: "jpeg",
        mime: "image/jpeg",
        width: rgb.width(),
        height: rgb.height(),
        bytes,
    })
}

fn encode_webp(name: &'static str, image: &DynamicImage) -> Result<Rendition> {
    let mut bytes = Vec::new();
    let encoder = WebPEncoder::new_lossless(&mut bytes);
    if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        encoder
            .encode(
                rgba.as_raw(),
                rgba.width(),
                rgba.height(),
                ExtendedColorType::Rgba8,
            )
            .map_err(Error::internal)?;
    } else {
        let rgb = image.to_rgb8();
        encoder
            .encode(
                rgb.as_raw(),
                rgb.width(),
                rgb.height(),
                ExtendedColorType::Rgb8,
            )
            .map_err(Error::internal)?;
    }
    Ok(Rendition {
        name,
        format: "webp",
        mime: "image/webp",
        width: image.width(),
        height: image.height(),
        bytes,
    })
}
