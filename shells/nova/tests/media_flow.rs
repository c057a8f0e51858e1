//! Media against the real `nova` binary, over HTTP as a client would send it: a JPEG
//! with GPS EXIF is uploaded (as a stream, over the server's 1 MiB body limit for other
//! routes), its variants are fetched through their signed URLs with no GPS bytes left,
//! a tampered link gets 403; hostile files get a 4xx naming why, while the process's
//! peak memory stays under 256 MiB; `/metrics` has the media metrics. Attached to a post
//! over GraphQL, the upload is shown with the post, cannot be used by anyone else or
//! twice, and goes (row and files) when the post is deleted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

#[allow(dead_code)]
mod common;

use std::io::Cursor;
use std::process::{Command, Stdio};

use image::{ImageFormat, Rgb, RgbImage};
use nova_testkit::process::{Running, free_port, wait_for_http};
use serde_json::Value;

const GPS_MARKER: &[u8] = b"NOVA-GPS-MARKER";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A JPEG of `w × h` noise (so it compresses badly: > 1 MiB) with an EXIF segment
/// holding GPS coordinates and [`GPS_MARKER`].
fn jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_F491_u32;
    let img = RgbImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let b = seed.to_le_bytes();
        Rgb([b[0], b[1], b[2]])
    });
    let mut plain = Vec::new();
    img.write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
        .unwrap();
    // TIFF: IFD0 → GPS IFD with a GPSProcessingMethod (UNDEFINED) holding the marker.
    let mut t = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    t.extend(1u16.to_le_bytes());
    t.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    t.extend(26u32.to_le_bytes()); // GPS IFD right after IFD0 (8 + 2 + 12 + 4)
    t.extend(0u32.to_le_bytes());
    let mut method = b"ASCII\0\0\0".to_vec();
    method.extend(GPS_MARKER);
    t.extend(1u16.to_le_bytes());
    t.extend([0x1B, 0x00, 7, 0]);
    t.extend((method.len() as u32).to_le_bytes());
    t.extend((26u32 + 2 + 12 + 4).to_le_bytes());
    t.extend(0u32.to_le_bytes());
    t.extend(&method);
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((2 + 6 + t.len()) as u16).to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(t);
    out.extend(&plain[2..]);
    out
}

fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    // A pixel flood: IHDR says w × h, IDAT holds a few bytes; CRCs are not even needed
    // to refuse it (the header is read first), but it ends with IEND like a whole PNG.
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        let crc = crc(&body);
        out.extend(&body);
        out.extend(crc.to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x63, 0, 0, 0, 1, 0, 1]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// CRC-32 (IEEE), bit by bit: enough for a few chunk headers.
fn crc(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Peak resident memory of `pid` (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_serve_and_refuse_against_the_binary() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let nova = Running(child);
    let pid = nova.0.id();
    tokio::task::spawn_blocking(move || wait_for_http(port, "/api/v1/ready", "nova"))
        .await
        .unwrap();
    let (_, token) = tokio::task::spawn_blocking(move || common::account(port, "mediauser"))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let jpeg = jpeg_with_gps(1400, 1000);
    assert!(
        jpeg.len() > 1 << 20,
        "over the 1 MiB body limit of other routes: {}",
        jpeg.len()
    );
    assert!(contains(&jpeg, GPS_MARKER));
    let answer = http
        .post(format!("{base}/api/v1/media"))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let media: Value = answer.json().await.unwrap();
    assert_eq!(media["state"], "ready", "{media}");
    assert!(
        media["blurhash"].as_str().is_some_and(|b| !b.is_empty()),
        "{media}"
    );
    let variants = media["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 6);
    let mut first = None;
    for v in variants {
        let url = format!("{base}{}", v["url"].as_str().unwrap());
        let got = http.get(&url).send().await.unwrap();
        assert_eq!(got.status(), 200, "{url}");
        let ct = got.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct == "image/webp" || ct == "image/jpeg", "{ct}");
        let bytes = got.bytes().await.unwrap();
        assert!(!contains(&bytes, GPS_MARKER), "{url} keeps the GPS block");
        assert!(!contains(&bytes, b"Exif"), "{url} keeps EXIF");
        first.get_or_insert(url);
    }
    let url = first.unwrap();
    let tampered = url.replace("exp=", "exp=1");
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
    let unsigned = url.split('?').next().unwrap().to_owned();
    assert_eq!(http.get(&unsigned).send().await.unwrap().status(), 403);

    // On a post over GraphQL: only the author's own ready upload, and only once; the
    // post shows it with its variants and alt text, signed out too; deleting the post
    // deletes its media, row and files.
    let media_id = media["id"].as_str().unwrap().to_owned();
    let gql = move |token: Option<String>, query: &'static str, variables: Value| {
        tokio::task::spawn_blocking(move || {
            common::graphql(port, token.as_deref(), query, variables)
        })
    };
    let (_, other) = tokio::task::spawn_blocking(move || common::account(port, "mediaother"))
        .await
        .unwrap();
    const CREATE: &str = "mutation($i: PostInput!) { createPost(input: $i) { id media { id altText blurhash width variants { name url } } } }";
    let with = |text: &str, alt: &str| serde_json::json!({ "i": { "text": text, "media": [{ "id": media_id, "altText": alt }] } });
    let theirs = gql(Some(other.clone()), CREATE, with("not mine", ""))
        .await
        .unwrap();
    let error = theirs["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(error.contains("media"), "{theirs}");
    let created = gql(
        Some(token.clone()),
        CREATE,
        with("with a picture", "a gradient"),
    )
    .await
    .unwrap();
    assert!(created.get("errors").is_none(), "{created}");
    let post = &created["data"]["createPost"];
    let shown = &post["media"][0];
    assert_eq!(
        (shown["id"].as_str(), shown["altText"].as_str()),
        (Some(media_id.as_str()), Some("a gradient")),
        "{post}"
    );
    assert_eq!(shown["blurhash"], media["blurhash"]);
    assert_eq!(shown["variants"].as_array().unwrap().len(), 6);
    let again = gql(
        Some(token.clone()),
        CREATE,
        with("the same picture twice", ""),
    )
    .await
    .unwrap();
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("media"),
        "{again}"
    );
    let post_id = post["id"].as_str().unwrap().to_owned();
    const READ: &str = "query($id: ID!) { post(id: $id) { media { id variants { url } } } }";
    let public = gql(None, READ, serde_json::json!({ "id": post_id }))
        .await
        .unwrap();
    let file = public["data"]["post"]["media"][0]["variants"][0]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("signed out, the post's media: {public}"))
        .to_owned();
    let file = format!("{base}{file}");
    assert_eq!(http.get(&file).send().await.unwrap().status(), 200);
    let deleted = gql(
        Some(token.clone()),
        "mutation($id: ID!) { deletePost(postId: $id) }",
        serde_json::json!({ "id": post_id }),
    )
    .await
    .unwrap();
    assert_eq!(deleted["data"]["deletePost"], true, "{deleted}");
    let mut gone = false;
    for _ in 0..300 {
        let row = http
            .get(format!("{base}/api/v1/media/{media_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        let bytes = http.get(&file).send().await.unwrap().status();
        if row == 404 && bytes == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "a deleted post's media stay: {file}");

    // Hostile files: a clear 4xx each, naming why; nothing decodes them.
    let mut polyglot = {
        let mut png = Vec::new();
        RgbImage::new(32, 32)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        png
    };
    polyglot.extend(b"<html><script>alert(1)</script></html>");
    let mut gzip = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF];
    gzip.extend([0u8; 64]);
    let truncated = {
        let mut j = Vec::new();
        RgbImage::from_pixel(400, 300, Rgb([9, 99, 199]))
            .write_to(&mut Cursor::new(&mut j), ImageFormat::Jpeg)
            .unwrap();
        j.truncate(j.len() / 2);
        j
    };
    for (name, bytes, status, says) in [
        (
            "pixel flood",
            png_header_only(64_250, 64_250),
            413,
            "megapixels",
        ),
        ("gzip as png", gzip, 400, "application/gzip"),
        ("polyglot", polyglot, 400, "follow the end of the PNG"),
        ("truncated", truncated, 400, "truncated"),
    ] {
        let answer = http
            .post(format!("{base}/api/v1/media"))
            .bearer_auth(&token)
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{name}");
        let text = answer.text().await.unwrap();
        assert!(text.contains(says), "{name}: {text}");
    }
    // The media metrics are exported.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "nova_media_uploads_total",
        "nova_media_bytes_uploaded_total",
        "nova_media_refused_total",
        "nova_media_processing_seconds",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }
    let peak = peak_rss_kib(pid);
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
    eprintln!("nova peak RSS after the media flow: {} MiB", peak / 1024);
}
