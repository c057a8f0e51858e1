//! nova-media's tests in one binary: the store conformance suite (SQLite, PostgreSQL),
//! the object-storage conformance suite (local disk, S3), uploads and the image
//! pipeline, hostile files, REST with signed delivery, gRPC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod files;
mod grpc;
mod hostile;
mod http;
mod objects;
mod store;
mod upload;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_db::Db;
use nova_media::signing::UrlSigner;
use nova_media::storage::Storage;
use nova_media::store::SqlMediaStore;
use nova_media::{Media, MediaService};

pub(crate) const KEY: &[u8] = b"media test key, thirty-two bytes or more";

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
pub(crate) struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(principal(id))
    }
}

/// `id`'s principal, its session derived from the id (as the test tokens carry it).
pub(crate) fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

pub(crate) fn user() -> Principal {
    principal(UserId::new())
}

pub(crate) async fn sqlite() -> Db {
    let db = Db::connect("sqlite::memory:", &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

pub(crate) fn local_storage(dir: &Path) -> Storage {
    Storage::local(&dir.join("media"), UrlSigner::new(KEY), "").unwrap()
}

/// A service on SQLite and local disk under `dir`.
pub(crate) async fn service(dir: &Path) -> MediaService {
    MediaService::new(
        Arc::new(SqlMediaStore::new(sqlite().await)),
        local_storage(dir),
        dir.join("tmp"),
    )
}

/// `bytes` as a body stream of 64 KiB chunks.
pub(crate) fn chunks(
    bytes: &[u8],
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let parts: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(parts)
}

pub(crate) async fn upload(
    service: &MediaService,
    who: &Principal,
    bytes: &[u8],
) -> nova_core::Result<Media> {
    service
        .upload(who, chunks(bytes), Some(bytes.len() as u64))
        .await
}

/// Every variant's bytes, read back from storage.
pub(crate) async fn variant_bytes(service: &MediaService, media: &Media) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for v in &media.variants {
        let bytes = service.storage().read(&v.key).await.unwrap().unwrap();
        out.push((format!("{}.{}", v.name, v.format), bytes.to_vec()));
    }
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
