//! REST: upload, read, describe, delete, and the signed delivery of files (headers,
//! ranges, tampered and expired links).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use image::ImageFormat;
use nova_core::{ManualClock, UserId};
use nova_media::http::{router, upload_router};
use nova_media::store::SqlMediaStore;
use nova_media::{MediaService, Variant};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::files::{GPS_MARKER, halves, jpeg_with_gps, mp4};
use crate::{TestAuth, contains, local_storage, sqlite};

struct App {
    router: Router,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_epoch_seconds(1_900_000_000);
    let service = Arc::new(
        MediaService::new(
            Arc::new(SqlMediaStore::new(sqlite().await)),
            local_storage(dir.path()),
            dir.path().join("tmp"),
        )
        .with_clock(clock.shared())
        .with_url_ttl(std::time::Duration::from_secs(600)),
    );
    let auth = Arc::new(TestAuth);
    let router = router(service.clone(), auth.clone()).merge(upload_router(service, auth));
    App {
        router,
        clock,
        _dir: dir,
    }
}

async fn send(app: &App, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = app.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

async fn call(
    app: &App,
    method: &str,
    uri: &str,
    user: Option<UserId>,
    body: Body,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req.header("authorization", format!("Bearer t-{u}"));
    }
    if method == "PATCH" {
        req = req.header("content-type", "application/json");
    }
    let (status, _, bytes) = send(app, req.body(body).unwrap()).await;
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

async fn post_file(
    app: &App,
    user: UserId,
    bytes: Vec<u8>,
    content_type: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/media")
        .header("authorization", format!("Bearer t-{user}"))
        .header("content-type", content_type)
        .header("content-disposition", "attachment; filename=\"photo.jpg\"")
        .header("content-length", bytes.len())
        .body(Body::from(bytes))
        .unwrap();
    let (status, _, body) = send(app, req).await;
    (status, serde_json::from_slice(&body).unwrap())
}

fn variants(media: &Value) -> Vec<Variant> {
    serde_json::from_value(media["variants"].clone()).unwrap()
}

async fn fetch(
    app: &App,
    url: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method("GET").uri(url);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_then_fetch_variants_by_signed_url() {
    let app = app().await;
    let me = UserId::new();
    let (status, body) = call(&app, "POST", "/api/v1/media", None, Body::from("x")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, media) = post_file(&app, me, jpeg_with_gps(1000, 700, 1), "image/jpeg").await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    assert_eq!(media["state"], "ready");
    assert!(media["blurhash"].as_str().is_some_and(|b| !b.is_empty()));
    assert!(media.get("original_key").is_none(), "never shown");
    let vs = variants(&media);
    assert_eq!(vs.len(), 6);
    for v in &vs {
        let url = v.url.as_deref().unwrap();
        assert!(url.starts_with("/media/files/v/"), "{url}");
        let (status, headers, bytes) = fetch(&app, url, None).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let mime = if v.format == "webp" {
            "image/webp"
        } else {
            "image/jpeg"
        };
        assert_eq!(headers["content-type"], mime);
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline; filename=")
        );
        assert_eq!(headers["cache-control"], "private, max-age=600");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["accept-ranges"], "bytes");
        assert_eq!(bytes.len() as u64, v.size_bytes);
        assert!(
            !contains(&bytes, GPS_MARKER) && !contains(&bytes, b"Exif"),
            "{url}"
        );
    }

    // A range.
    let url = vs[0].url.as_deref().unwrap();
    let (_, _, whole) = fetch(&app, url, None).await;
    let (status, headers, part) = fetch(&app, url, Some("bytes=10-19")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers["content-range"],
        format!("bytes 10-19/{}", whole.len())
    );
    assert_eq!(part, whole[10..20]);
    let (status, headers, _) = fetch(&app, url, Some(&format!("bytes={}-", whole.len()))).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers["content-range"], format!("bytes */{}", whole.len()));
    let (status, headers, body) = send(
        &app,
        Request::builder()
            .method("HEAD")
            .uri(url)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-length"], whole.len().to_string());
    assert!(body.is_empty());

    // Tampered: another key, another expiry, another signature.
    let other = vs[1].url.as_deref().unwrap();
    let (path, query) = url.split_once('?').unwrap();
    let (other_path, _) = other.split_once('?').unwrap();
    let exp: i64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("exp="))
        .unwrap()
        .parse()
        .unwrap();
    let sig = query
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap();
    for bad in [
        format!("{other_path}?{query}"),
        format!("{path}?exp={}&sig={sig}", exp + 3600),
        format!(
            "{path}?exp={exp}&sig={}{}",
            if sig.starts_with('A') { "B" } else { "A" },
            &sig[1..]
        ),
        format!("{path}?exp={exp}"),
        path.to_owned(),
    ] {
        let (status, _, body) = fetch(&app, &bad, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{bad}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // Expired: the same link after its deadline.
    app.clock.advance(chrono::Duration::seconds(601));
    let (status, _, _) = fetch(&app, url, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A fresh read mints fresh links.
    let id = media["id"].as_str().unwrap();
    let (status, again) = call(
        &app,
        "GET",
        &format!("/api/v1/media/{id}"),
        Some(me),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let fresh = variants(&again)[0].url.clone().unwrap();
    assert_eq!(fetch(&app, &fresh, None).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extension_and_content_type_are_not_believed() {
    let app = app().await;
    let me = UserId::new();
    // A PNG posted as photo.jpg, image/jpeg: accepted as the PNG it is.
    let (status, media) = post_file(&app, me, halves(50, 40, ImageFormat::Png), "image/jpeg").await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    assert_eq!(media["mime"], "image/png");
    // A gzip posted as image/png: refused, naming what it is.
    let mut gz = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF];
    gz.extend([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (status, err) = post_file(&app, me, gz, "image/png").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err.to_string().contains("application/gzip"), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_and_delete_over_rest() {
    let app = app().await;
    let (me, other) = (UserId::new(), UserId::new());
    let (_, media) = post_file(
        &app,
        me,
        halves(50, 40, ImageFormat::Png),
        "application/octet-stream",
    )
    .await;
    let id = media["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/media/{id}");
    let patch = |b: Value| Body::from(b.to_string());

    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(other),
        patch(json!({"alt_text": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(me),
        patch(json!({"alt_text": "é".repeat(1501)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("alt_text"), "{body}");
    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(me),
        patch(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(
        &app,
        "PATCH",
        &uri,
        Some(me),
        patch(json!({"alt_text": "a small red and blue flag", "focus": {"x": 0.5, "y": -0.5}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alt_text"], "a small red and blue flag");
    assert_eq!(body["focus"], json!({"x": 0.5, "y": -0.5}));

    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/media/not-an-id",
        Some(me),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, "DELETE", &uri, Some(other), Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "DELETE", &uri, Some(me), Body::empty()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, "GET", &uri, Some(me), Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its files are gone: the old links answer 404 (the signature is still valid).
    let url = variants(&media)[0].url.clone().unwrap();
    assert_eq!(fetch(&app, &url, None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_video_is_the_owners_alone() {
    let app = app().await;
    let (me, other) = (UserId::new(), UserId::new());
    let (status, media) = post_file(&app, me, mp4(), "video/mp4").await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    assert_eq!(media["state"], "pending");
    let uri = format!("/api/v1/media/{}", media["id"].as_str().unwrap());
    assert_eq!(
        call(&app, "GET", &uri, Some(me), Body::empty()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", &uri, Some(other), Body::empty()).await.0,
        StatusCode::NOT_FOUND
    );
}
