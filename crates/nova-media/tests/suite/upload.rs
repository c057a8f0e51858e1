//! Uploads through the service: metadata stripped, orientation applied, variants never
//! upscaled, hashes, caps, rate limits, authorization, failures and cleanup.

use std::sync::Arc;
use std::time::Duration;

use image::{GenericImageView, ImageFormat};
use nova_core::ManualClock;
use nova_kv::{InProcessRateLimiter, Quota};
use nova_media::store::SqlMediaStore;
use nova_media::{
    MediaApi, MediaKind, MediaService, MediaState, MediaUpdate, SizeCaps, UNATTACHED_TTL,
};

use crate::files::{GPS_MARKER, exif_segment, halves, jpeg_with_gps, mp4};
use crate::{contains, local_storage, service, sqlite, upload, user, variant_bytes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jpeg_with_gps_exif_leaves_no_metadata_in_any_variant() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let original = jpeg_with_gps(2400, 1600, 1);
    // The fixture really carries what must go.
    assert!(contains(&original, GPS_MARKER));
    assert!(contains(&original, b"Exif\0\0"));

    let me = user();
    let media = upload(&service, &me, &original).await.unwrap();
    assert_eq!(media.state, MediaState::Ready);
    assert_eq!(
        (media.kind, media.mime.as_str()),
        (MediaKind::Image, "image/jpeg")
    );
    assert_eq!((media.width, media.height), (Some(2400), Some(1600)));
    assert!(
        media.blurhash.as_deref().is_some_and(|b| b.len() >= 6),
        "{:?}",
        media.blurhash
    );
    assert!(
        media.phash.as_deref().is_some_and(|p| p.len() == 16),
        "{:?}",
        media.phash
    );
    assert_eq!(
        media.original_key, None,
        "the original with its EXIF is not kept"
    );

    let variants = variant_bytes(&service, &media).await;
    assert_eq!(variants.len(), 6);
    for (name, bytes) in &variants {
        assert!(!contains(bytes, GPS_MARKER), "{name} keeps the GPS block");
        assert!(!contains(bytes, b"Exif"), "{name} keeps an EXIF segment");
        // The latitude's rational 48/1, as stored in the GPS IFD.
        assert!(
            !contains(bytes, &[48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0]),
            "{name}"
        );
    }
    // Nothing else on disk holds it either (the spooled upload is gone).
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !contains(&bytes, GPS_MARKER),
            "{} keeps the GPS block",
            entry.display()
        );
    }
    // Sizes: 128, 640, 1920 on the longest side, in both formats.
    let mut sizes: Vec<(String, u32, u32)> = media
        .variants
        .iter()
        .map(|v| (format!("{}.{}", v.name, v.format), v.width, v.height))
        .collect();
    sizes.sort();
    assert_eq!(
        sizes,
        vec![
            ("large.jpeg".into(), 1920, 1280),
            ("large.webp".into(), 1920, 1280),
            ("small.jpeg".into(), 640, 427),
            ("small.webp".into(), 640, 427),
            ("thumb.jpeg".into(), 128, 85),
            ("thumb.webp".into(), 128, 85),
        ]
    );
    // Each decodes as what it claims to be, at the size it claims.
    for v in &media.variants {
        let bytes = service.storage().read(&v.key).await.unwrap().unwrap();
        let format = image::guess_format(&bytes).unwrap();
        assert_eq!(
            format,
            if v.format == "webp" {
                ImageFormat::WebP
            } else {
                ImageFormat::Jpeg
            }
        );
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (v.width, v.height),
            "{}",
            v.key
        );
        assert_eq!(v.size_bytes, bytes.len() as u64);
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exif_orientation_is_applied_before_the_variants() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    // Stored 400 wide × 300 high, left red and right blue; orientation 6 = rotate 90° CW.
    let media = upload(&service, &user(), &jpeg_with_gps(400, 300, 6))
        .await
        .unwrap();
    assert_eq!((media.width, media.height), (Some(300), Some(400)));
    let large = media
        .variants
        .iter()
        .find(|v| v.name == "large" && v.format == "webp")
        .unwrap();
    assert_eq!((large.width, large.height), (300, 400), "never upscaled");
    let img = image::load_from_memory(&service.storage().read(&large.key).await.unwrap().unwrap())
        .unwrap()
        .to_rgb8();
    // The stored left (red) is now the top, the right (blue) the bottom.
    let top = img.get_pixel(150, 40).0;
    let bottom = img.get_pixel(150, 360).0;
    assert!(top[0] > 150 && top[2] < 100, "top {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "bottom {bottom:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_images_are_never_upscaled_and_transparency_survives_in_webp() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let mut png = Vec::new();
    image::RgbaImage::from_fn(90, 60, |x, _| {
        image::Rgba([0, 0, 0, if x < 45 { 0 } else { 255 }])
    })
    .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
    .unwrap();
    let media = upload(&service, &user(), &png).await.unwrap();
    assert!(
        media
            .variants
            .iter()
            .all(|v| (v.width, v.height) == (90, 60))
    );
    let webp = media.variants.iter().find(|v| v.format == "webp").unwrap();
    let img = image::load_from_memory(&service.storage().read(&webp.key).await.unwrap().unwrap())
        .unwrap();
    assert_eq!(
        img.get_pixel(10, 10).0[3],
        0,
        "transparent stays transparent"
    );
    // JPEG has no alpha: flattened over white, not black.
    let jpeg = media.variants.iter().find(|v| v.format == "jpeg").unwrap();
    let img = image::load_from_memory(&service.storage().read(&jpeg.key).await.unwrap().unwrap())
        .unwrap()
        .to_rgb8();
    assert!(
        img.get_pixel(10, 10).0.iter().all(|c| *c > 230),
        "{:?}",
        img.get_pixel(10, 10)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_type_comes_from_the_bytes_and_gifs_webps_work() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    for (format, kind, mime) in [
        (ImageFormat::Png, MediaKind::Image, "image/png"),
        (ImageFormat::Gif, MediaKind::Gif, "image/gif"),
        (ImageFormat::WebP, MediaKind::Image, "image/webp"),
    ] {
        let media = upload(&service, &user(), &halves(300, 200, format))
            .await
            .unwrap();
        assert_eq!(
            (media.kind, media.mime.as_str(), media.state),
            (kind, mime, MediaState::Ready)
        );
    }
    // Perceptually the same picture, re-encoded: the same or a very close pHash.
    let a = upload(&service, &user(), &halves(600, 400, ImageFormat::Png))
        .await
        .unwrap();
    let b = upload(&service, &user(), &halves(600, 400, ImageFormat::Jpeg))
        .await
        .unwrap();
    let distance = (u64::from_str_radix(a.phash.as_deref().unwrap(), 16).unwrap()
        ^ u64::from_str_radix(b.phash.as_deref().unwrap(), 16).unwrap())
    .count_ones();
    assert!(distance <= 4, "pHash distance {distance}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_is_stored_pending_for_transcoding() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let me = user();
    let media = upload(&service, &me, &mp4()).await.unwrap();
    assert_eq!(
        (media.kind, media.state),
        (MediaKind::Video, MediaState::Pending)
    );
    assert_eq!(media.mime, "video/mp4");
    assert!(media.variants.is_empty());
    let key = media.original_key.clone().unwrap();
    assert_eq!(
        service
            .storage()
            .read(&key)
            .await
            .unwrap()
            .unwrap()
            .to_vec(),
        mp4()
    );
    // Pending: only its owner sees it.
    assert_eq!(
        service.get(&me, media.id).await.unwrap().state,
        MediaState::Pending
    );
    assert_eq!(
        service
            .get(&user(), media.id)
            .await
            .unwrap_err()
            .http_status(),
        404
    );
    assert!(
        service
            .get_many(Some(&user()), &[media.id])
            .await
            .unwrap()
            .is_empty()
    );
    // Deleting removes the file too.
    service.delete(&me, media.id).await.unwrap();
    assert_eq!(service.storage().read(&key).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_are_per_kind_and_named_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let caps = SizeCaps {
        image: 8 * 1024,
        gif: 8 * 1024,
        video: 1024 * 1024,
        audio: 1024 * 1024,
    };
    let service = crate::service(dir.path()).await.with_caps(caps);
    let big = halves(1200, 900, ImageFormat::Png);
    assert!(big.len() > 8 * 1024, "{}", big.len());
    // Without a length, the stream is cut at the cap.
    let err = service
        .upload(&user(), crate::chunks(&big), None)
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 413);
    assert!(err.message().contains("8 KiB"), "{}", err.message());
    assert!(err.message().contains("an image"), "{}", err.message());
    // With a length over the largest cap, before reading anything.
    let err = service
        .upload(&user(), crate::chunks(&big), Some(2 * 1024 * 1024))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 413);
    // The same size is fine for a video.
    let mut video = mp4();
    video.resize(big.len(), 1);
    assert_eq!(
        upload(&service, &user(), &video).await.unwrap().kind,
        MediaKind::Video
    );
    // Empty.
    let err = upload(&service, &user(), b"").await.unwrap_err();
    assert_eq!((err.http_status(), err.field()), (400, Some("file")));
    // No spooled file is left over.
    assert!(walk(&dir.path().join("tmp")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_uploads_per_half_hour_then_429() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_epoch_seconds(1_700_000_000);
    let limiter = Arc::new(InProcessRateLimiter::new(clock.shared()));
    let service = crate::service(dir.path())
        .await
        .with_limiter(limiter, Quota::new(30, Duration::from_secs(1800)));
    let (me, other) = (user(), user());
    let png = halves(16, 16, ImageFormat::Png);
    for _ in 0..30 {
        upload(&service, &me, &png).await.unwrap();
    }
    let err = upload(&service, &me, &png).await.unwrap_err();
    assert_eq!(err.http_status(), 429);
    assert!(
        err.message().contains("30 uploads per 30 minutes"),
        "{}",
        err.message()
    );
    // Per user.
    upload(&service, &other, &png).await.unwrap();
    // A minute later one more is allowed (30 per 30 min = one per minute).
    clock.advance(chrono::Duration::seconds(61));
    upload(&service, &me, &png).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_is_the_services() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let (me, other) = (user(), user());
    let media = upload(&service, &me, &halves(64, 64, ImageFormat::Png))
        .await
        .unwrap();

    // Ready: anyone reads it, with signed URLs.
    let seen = service.get(&other, media.id).await.unwrap();
    assert!(
        seen.variants
            .iter()
            .all(|v| v.url.as_deref().is_some_and(|u| u.contains("sig=")))
    );
    // Only the owner describes and deletes; the others get 404, as for a missing id.
    let update = MediaUpdate {
        alt_text: Some("two colours".into()),
        focus: None,
    };
    let err = service
        .update(&other, media.id, update.clone())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 404);
    let missing = service
        .update(&me, nova_media::MediaId::new(), update.clone())
        .await
        .unwrap_err();
    assert_eq!(
        (missing.http_status(), missing.message()),
        (404, err.message())
    );
    assert_eq!(
        service
            .delete(&other, media.id)
            .await
            .unwrap_err()
            .http_status(),
        404
    );
    assert_eq!(
        service
            .update(&me, media.id, update)
            .await
            .unwrap()
            .alt_text,
        "two colours"
    );

    // Bad input names the field and changes nothing.
    let long = MediaUpdate {
        alt_text: Some("x".repeat(1501)),
        focus: None,
    };
    let err = service.update(&me, media.id, long).await.unwrap_err();
    assert_eq!(err.field(), Some("alt_text"));
    let off = MediaUpdate {
        alt_text: Some("changed".into()),
        focus: Some(nova_media::FocalPoint { x: 2.0, y: 0.0 }),
    };
    assert_eq!(
        service
            .update(&me, media.id, off)
            .await
            .unwrap_err()
            .field(),
        Some("focus.x")
    );
    assert_eq!(
        service.get(&me, media.id).await.unwrap().alt_text,
        "two colours"
    );

    service.delete(&me, media.id).await.unwrap();
    assert_eq!(
        service.get(&me, media.id).await.unwrap_err().http_status(),
        404
    );
    for v in &media.variants {
        assert_eq!(
            service.storage().read(&v.key).await.unwrap(),
            None,
            "{}",
            v.key
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_ends_failed_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    // Variants go under `v/`: a plain file there makes every write fail.
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media").join("v"), b"in the way").unwrap();
    let service = service(dir.path()).await;
    let me = user();
    let media = upload(&service, &me, &halves(64, 64, ImageFormat::Png))
        .await
        .unwrap();
    assert_eq!(media.state, MediaState::Failed);
    assert!(
        media
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("variant failed")),
        "{:?}",
        media.failure
    );
    let stored = service.get(&me, media.id).await.unwrap();
    assert_eq!(
        (stored.state, stored.failure),
        (MediaState::Failed, media.failure)
    );
    assert_eq!(
        service
            .get(&user(), media.id)
            .await
            .unwrap_err()
            .http_status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattached_uploads_are_deleted_after_a_day_with_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_epoch_seconds(1_700_000_000);
    let service = MediaService::new(
        Arc::new(SqlMediaStore::new(sqlite().await)),
        local_storage(dir.path()),
        dir.path().join("tmp"),
    )
    .with_clock(clock.shared());
    let me = user();
    let png = halves(64, 64, ImageFormat::Png);
    let kept = upload(&service, &me, &png).await.unwrap();
    let dropped = upload(&service, &me, &png).await.unwrap();
    let video = upload(&service, &me, &mp4()).await.unwrap();
    service
        .attach(me.user_id, &[kept.id], "post:1")
        .await
        .unwrap();
    // Someone else's media, or a pending one, cannot be attached.
    let err = service
        .attach(user().user_id, &[dropped.id], "post:2")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("media_ids"));
    assert!(
        service
            .attach(me.user_id, &[video.id], "post:2")
            .await
            .is_err()
    );

    assert_eq!(service.cleanup_unattached(UNATTACHED_TTL).await.unwrap(), 0);
    clock.advance(chrono::Duration::hours(25));
    assert_eq!(service.cleanup_unattached(UNATTACHED_TTL).await.unwrap(), 2);
    assert_eq!(
        service
            .get(&me, dropped.id)
            .await
            .unwrap_err()
            .http_status(),
        404
    );
    assert_eq!(
        service.get(&me, video.id).await.unwrap_err().http_status(),
        404
    );
    assert_eq!(
        service.get(&me, kept.id).await.unwrap().state,
        MediaState::Ready
    );
    let left = service.storage().list("").await.unwrap();
    assert!(
        left.iter().all(|k| k.contains(&kept.id.to_string())),
        "{left:?}"
    );
    assert_eq!(left.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_avatar_goes_with_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path()).await;
    let me = user();
    let png = halves(64, 64, ImageFormat::Png);
    let first = upload(&service, &me, &png).await.unwrap();
    let second = upload(&service, &me, &png).await.unwrap();
    let target = format!("avatar:{}", me.user_id);
    service
        .attach(me.user_id, &[first.id], &target)
        .await
        .unwrap();
    // Claimed again (a retry): kept.
    service
        .attach(me.user_id, &[first.id], &target)
        .await
        .unwrap();
    assert_eq!(service.get(&me, first.id).await.unwrap().id, first.id);

    service
        .attach(me.user_id, &[second.id], &target)
        .await
        .unwrap();
    assert_eq!(
        service.get(&me, first.id).await.unwrap_err().http_status(),
        404
    );
    let left = service.storage().list("").await.unwrap();
    assert!(
        left.iter().all(|k| k.contains(&second.id.to_string())),
        "{left:?}"
    );
    assert_eq!(left.len(), 6);
}

#[test]
fn the_exif_fixture_is_what_exif_readers_expect() {
    // The orientation is where the decoder looks for it.
    let seg = exif_segment(6);
    let tiff = &seg[10..];
    assert_eq!(
        image::metadata::Orientation::from_exif_chunk(tiff),
        Some(image::metadata::Orientation::Rotate90)
    );
}
