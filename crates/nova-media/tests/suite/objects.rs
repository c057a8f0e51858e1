//! The object-storage conformance suite, on local disk and on a real S3-protocol server
//! (`NOVA_TEST_S3_URL`, started by `cargo xtask test`; under `CI=true` a missing one
//! fails). Each S3 test gets its own fresh bucket.

use std::time::Duration;

use nova_media::signing::UrlSigner;
use nova_media::storage::{S3Settings, Storage};

use crate::KEY;

/// A fresh bucket on the test S3 server, or `None` (skip) outside CI.
async fn s3() -> Option<Storage> {
    let url = nova_testkit::s3_url()?;
    let bucket = format!("nova-test-{}", uuid::Uuid::new_v4().simple());
    // moto and s3s accept a plain path-style PUT to create a bucket (moto does not
    // check signatures; s3s-fs is run without auth by the xtask).
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", url.trim_end_matches('/')))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    Some(
        Storage::s3(&S3Settings {
            bucket,
            endpoint: Some(url),
            region: Some("us-east-1".into()),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            path_style: true,
        })
        .unwrap(),
    )
}

fn local(dir: &std::path::Path) -> Storage {
    Storage::local(
        &dir.join("media"),
        UrlSigner::new(KEY),
        "https://media.example.com",
    )
    .unwrap()
}

mod suite {
    use super::*;

    pub async fn bytes_round_trip_with_ranges(s: Storage) {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            s.put_bytes("v/a/small.webp", data.clone(), "image/webp")
                .await
                .unwrap(),
            100_000
        );
        assert_eq!(
            s.read("v/a/small.webp").await.unwrap().unwrap().to_vec(),
            data
        );
        assert_eq!(s.size("v/a/small.webp").await.unwrap(), Some(100_000));
        let part = s
            .get("v/a/small.webp", Some(1000..1010))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(part.range, 1000..1010);
        assert_eq!(part.bytes().await.unwrap().to_vec(), data[1000..1010]);
        assert_eq!(s.read("v/missing").await.unwrap(), None);
        assert_eq!(s.size("v/missing").await.unwrap(), None);
    }

    pub async fn files_stream_in_parts(s: Storage) {
        // Over one 8 MiB part: a multipart upload of two parts.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let data: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 241) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(
            s.put_file("o/big", &path, "video/mp4").await.unwrap(),
            data.len() as u64
        );
        assert_eq!(s.size("o/big").await.unwrap(), Some(data.len() as u64));
        let tail = s
            .get("o/big", Some(9 * 1024 * 1024 - 5..9 * 1024 * 1024))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tail.bytes().await.unwrap().to_vec(), data[data.len() - 5..]);
    }

    pub async fn delete_and_list(s: Storage) {
        for key in ["v/x/a.webp", "v/x/b.jpeg", "v/y/a.webp", "o/x"] {
            s.put_bytes(key, b"1".to_vec(), "image/webp").await.unwrap();
        }
        let mut keys = s.list("v/x").await.unwrap();
        keys.sort();
        assert_eq!(keys, vec!["v/x/a.webp", "v/x/b.jpeg"]);
        s.delete("v/x/a.webp").await.unwrap();
        s.delete("v/x/a.webp").await.unwrap(); // missing: fine
        assert_eq!(s.read("v/x/a.webp").await.unwrap(), None);
        assert_eq!(s.list("").await.unwrap().len(), 3);
    }

    pub async fn urls_read_the_object_until_they_expire(s: Storage) {
        s.put_bytes("v/u/thumb.jpeg", b"jpeg bytes".to_vec(), "image/jpeg")
            .await
            .unwrap();
        let now = chrono::Utc::now().timestamp();
        let url = s
            .url("v/u/thumb.jpeg", now, Duration::from_secs(300))
            .await
            .unwrap();
        match s.url_signer() {
            Some(signer) => {
                // Local: served by the media service, which checks this signature.
                let (path, query) = url.split_once('?').unwrap();
                assert_eq!(path, "https://media.example.com/media/files/v/u/thumb.jpeg");
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
                assert_eq!(exp, now + 300);
                assert!(signer.verify("v/u/thumb.jpeg", exp, sig, now).is_ok());
                assert!(signer.verify("v/u/other.jpeg", exp, sig, now).is_err());
                assert!(
                    signer
                        .verify("v/u/thumb.jpeg", exp, sig, now + 301)
                        .is_err()
                );
            }
            None => {
                // S3: a presigned GET the server itself honours, with the stored headers.
                let answer = reqwest::get(&url).await.unwrap();
                assert_eq!(answer.status(), 200, "{url}");
                assert_eq!(answer.headers()["content-type"], "image/jpeg");
                assert_eq!(
                    answer.headers()["cache-control"],
                    nova_media::storage::CACHE_CONTROL
                );
                assert_eq!(answer.bytes().await.unwrap().to_vec(), b"jpeg bytes");
                assert!(url.contains("X-Amz-Signature="), "{url}");
                assert!(url.contains("X-Amz-Expires=300"), "{url}");
            }
        }
    }
}

macro_rules! storage_conformance {
    ($($test:ident),+ $(,)?) => {
        mod local_disk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    super::suite::$test(super::local(dir.path())).await;
                }
            )+
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(storage) = super::s3().await else { return };
                    super::suite::$test(storage).await;
                }
            )+
        }
    };
}

storage_conformance!(
    bytes_round_trip_with_ranges,
    files_stream_in_parts,
    delete_and_list,
    urls_read_the_object_until_they_expire,
);

/// A whole upload on S3: variants land in the bucket, reads hand out presigned URLs that
/// serve them without any metadata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_round_trips_through_s3() {
    let Some(storage) = s3().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let service = nova_media::MediaService::new(
        std::sync::Arc::new(nova_media::store::SqlMediaStore::new(crate::sqlite().await)),
        storage,
        dir.path().join("tmp"),
    );
    let media = crate::upload(
        &service,
        &crate::user(),
        &crate::files::jpeg_with_gps(800, 600, 1),
    )
    .await
    .unwrap();
    assert_eq!(media.state, nova_media::MediaState::Ready);
    for v in &media.variants {
        let url = v.url.as_deref().unwrap();
        let answer = reqwest::get(url).await.unwrap();
        assert_eq!(answer.status(), 200, "{url}");
        let bytes = answer.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, v.size_bytes);
        assert!(!crate::contains(&bytes, crate::files::GPS_MARKER));
    }
}
