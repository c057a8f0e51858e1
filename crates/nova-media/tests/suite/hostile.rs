//! Hostile files: each is refused with a 4xx naming the reason, fast, and leaves nothing
//! behind (no row, no object, no spooled file).

use std::time::{Duration, Instant};

use image::ImageFormat;
use nova_media::MediaState;
use nova_media::pipeline::MAX_DECODE_ALLOC;

use crate::files::{gzip_bomb, halves, pixel_flood, png_zlib_bomb};
use crate::{service, upload, user};

async fn refused(bytes: &[u8], status: u16, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let started = Instant::now();
    let err = upload(&service, &user(), bytes).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.http_status(), status, "{}", err.message());
    assert!(
        err.message().contains(says),
        "{:?} should say {says:?}",
        err.message()
    );
    assert!(
        err.field() == Some("file") || err.message().starts_with("file:"),
        "names the file: {}",
        err.message()
    );
    assert!(took < Duration::from_secs(5), "refused in {took:?}");
    assert!(
        service.storage().list("").await.unwrap().is_empty(),
        "nothing stored"
    );
    let tmp = dir.path().join("tmp");
    assert!(
        !tmp.exists() || std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "no spooled file left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pixel_flood_is_refused_from_its_header() {
    let flood = pixel_flood();
    assert!(flood.len() < 4096, "a few KB: {}", flood.len());
    refused(&flood, 413, "64250×64250").await;
    refused(&flood, 413, "at most 50 megapixels").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zlib_bomb_png_is_refused_before_inflating() {
    let bomb = png_zlib_bomb();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    refused(&bomb, 413, "8000×8000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_disguised_as_an_image_is_refused_by_its_magic_bytes() {
    let bomb = gzip_bomb();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    refused(&bomb, 400, "application/gzip").await;
    refused(&bomb, 400, "not allowed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polyglots_are_refused() {
    // A real JPEG with a ZIP (holding an HTML page) appended: a JPEG/ZIP polyglot.
    let mut jpeg_zip = halves(64, 64, ImageFormat::Jpeg);
    jpeg_zip.extend(b"PK\x03\x04\x14\x00\x00\x00\x00\x00<html><script>alert(1)</script></html>");
    refused(&jpeg_zip, 400, "follow the end of the JPEG").await;
    // The same with a PNG.
    let mut png_html = halves(64, 64, ImageFormat::Png);
    png_html.extend(b"<html><script>alert(document.cookie)</script></html>");
    refused(&png_html, 400, "follow the end of the PNG").await;
    // A GIF header that is really a script (GIFAR-style): not a GIF once read.
    let gif_js = b"GIF89a=1;/*\x00\x00*/alert(document.domain);".to_vec();
    let dir = tempfile::tempdir().unwrap();
    let err = upload(&service(dir.path()).await, &user(), &gif_js)
        .await
        .unwrap_err();
    assert!(matches!(err.http_status(), 400 | 413), "{}", err.message());
    assert!(
        err.message().contains("GIF") || err.message().contains("file"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_jpeg_is_refused() {
    let jpeg = halves(640, 480, ImageFormat::Jpeg);
    refused(&jpeg[..jpeg.len() / 2], 400, "JPEG is truncated").await;
    let png = halves(640, 480, ImageFormat::Png);
    refused(&png[..png.len() - 20], 400, "PNG is truncated").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_and_content_type_are_ignored() {
    // The service never sees a name; over REST a PNG posted as image/jpeg named
    // photo.jpg is still a PNG (see http.rs). Text is refused whatever it claims.
    refused(
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        400,
        "not recognisable",
    )
    .await;
    refused(
        b"MZ\x90\x00\x03\x00\x00\x00 an executable",
        400,
        "not allowed",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let media = upload(
        &service(dir.path()).await,
        &user(),
        &halves(32, 32, ImageFormat::Png),
    )
    .await
    .unwrap();
    assert_eq!(
        (media.mime.as_str(), media.state),
        ("image/png", MediaState::Ready)
    );
}

#[test]
fn the_decoder_runs_under_limits() {
    let limits = nova_media::pipeline::limits();
    assert_eq!(limits.max_alloc, Some(MAX_DECODE_ALLOC));
    assert_eq!(limits.max_image_width, Some(nova_media::pipeline::MAX_SIDE));
    // A header within the pixel budget but past the decoder's side limit is refused by
    // the decoder's limits (a second fence).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.png");
    let row = vec![0u8; 30_001];
    std::fs::write(
        &path,
        crate::files::png_with(
            30_000,
            2,
            &fdeflate::compress_to_vec(&[row.clone(), row].concat()),
        ),
    )
    .unwrap();
    let err = nova_media::pipeline::process(&path, ImageFormat::Png).unwrap_err();
    assert_eq!(err.field(), Some("file"));
    assert!(err.message().contains("limits"), "{}", err.message());
}
