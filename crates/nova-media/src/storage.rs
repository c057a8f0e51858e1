//! Object storage through the `object_store` crate: the local filesystem under
//! `NOVA_DATA_DIR/media` by default, any S3-compatible service when `S3_BUCKET` is set.
//!
//! Delivery differs by backend: local objects are served by the media service itself
//! behind [`UrlSigner`] URLs (`/media/files/<key>?exp=..&sig=..`); S3 objects through
//! presigned GET URLs (object_store's [`Signer`]), the object's `Content-Type`,
//! `Content-Disposition` and `Cache-Control` stored with it.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nova_core::{Error, Result};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt,
    PutOptions, PutPayload, WriteMultipart,
};
use tokio::io::AsyncReadExt;

use crate::signing::UrlSigner;

/// Where local files are served from (the HTTP route's prefix).
pub const FILES_PATH: &str = "/media/files";
/// Cache lifetime of served objects: keys are never reused, so they never change.
pub const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";
/// Chunk size of streamed (multipart) writes.
const PART: usize = 8 * 1024 * 1024;

/// The S3 settings (`S3_*` variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// `S3_BUCKET`.
    pub bucket: String,
    /// `S3_ENDPOINT` (empty: AWS).
    pub endpoint: Option<String>,
    /// `S3_REGION`.
    pub region: Option<String>,
    /// `S3_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `S3_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `S3_FORCE_PATH_STYLE` (MinIO, moto, s3s: true).
    pub path_style: bool,
}

enum Delivery {
    Local { signer: UrlSigner, base: String },
    S3 { signer: Arc<AmazonS3> },
}

/// The object store media lives in, and how its objects are handed to clients.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    delivery: Arc<Delivery>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("store", &self.store.to_string())
            .finish_non_exhaustive()
    }
}

fn storage_error(e: object_store::Error) -> Error {
    Error::unavailable(e)
}

fn object_path(key: &str) -> Result<ObjectPath> {
    ObjectPath::parse(key).map_err(|_| Error::invalid("key", "is not a valid object key"))
}

impl Storage {
    /// Files under `dir` (created when missing), served by this service behind URLs
    /// signed by `signer`; `base` is prefixed to the URLs (`""`: relative,
    /// `https://media.example.com`: absolute).
    pub fn local(dir: &Path, signer: UrlSigner, base: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::internal(format!("cannot use {}: {e}", dir.display())))?;
        Ok(Self {
            store: Arc::new(store),
            delivery: Arc::new(Delivery::Local {
                signer,
                base: base.trim_end_matches('/').to_owned(),
            }),
        })
    }

    /// An S3-compatible bucket; objects are delivered through presigned GET URLs.
    pub fn s3(settings: &S3Settings) -> Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(settings.region.as_deref().unwrap_or("us-east-1"))
            .with_virtual_hosted_style_request(!settings.path_style);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let s3 = Arc::new(builder.build().map_err(|e| {
            Error::internal(format!(
                "cannot configure S3 bucket {}: {e}",
                settings.bucket
            ))
        })?);
        Ok(Self {
            store: s3.clone(),
            delivery: Arc::new(Delivery::S3 { signer: s3 }),
        })
    }

    /// Whether objects live on local disk (and this service serves them).
    pub fn is_local(&self) -> bool {
        matches!(*self.delivery, Delivery::Local { .. })
    }

    /// The signer of local URLs (`None` on S3).
    pub fn url_signer(&self) -> Option<&UrlSigner> {
        match &*self.delivery {
            Delivery::Local { signer, .. } => Some(signer),
            Delivery::S3 { .. } => None,
        }
    }

    /// The underlying store (tests, tools).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    fn attributes(&self, mime: &str) -> Attributes {
        let mut attributes = Attributes::new();
        // The local filesystem store keeps no attributes (it refuses them): its objects
        // get their headers from the serving route instead.
        if !self.is_local() {
            attributes.insert(Attribute::ContentType, mime.to_owned().into());
            attributes.insert(Attribute::ContentDisposition, "inline".into());
            attributes.insert(Attribute::CacheControl, CACHE_CONTROL.into());
        }
        attributes
    }

    /// Stores `bytes` at `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>, mime: &str) -> Result<u64> {
        let len = bytes.len() as u64;
        self.store
            .put_opts(
                &object_path(key)?,
                PutPayload::from(bytes),
                PutOptions::from(self.attributes(mime)),
            )
            .await
            .map_err(storage_error)?;
        Ok(len)
    }

    /// Streams the file at `file` to `key` in parts (never the whole file in memory);
    /// answers its size.
    pub async fn put_file(&self, key: &str, file: &Path, mime: &str) -> Result<u64> {
        let path = object_path(key)?;
        let mut input = tokio::fs::File::open(file).await.map_err(Error::internal)?;
        let upload = self
            .store
            .put_multipart_opts(&path, self.attributes(mime).into())
            .await
            .map_err(storage_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match input.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(Error::internal(e));
                }
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            if let Err(e) = writer.wait_for_capacity(2).await {
                return Err(storage_error(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(storage_error)?;
        Ok(total)
    }

    /// Reads `key`, or a byte range of it.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<GetResult>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store.get_opts(&object_path(key)?, options).await {
            Ok(r) => Ok(Some(r)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// The size of `key`, `None` when missing.
    pub async fn size(&self, key: &str) -> Result<Option<u64>> {
        match self.store.head(&object_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Reads all of `key` (small objects: tests and variants).
    pub async fn read(&self, key: &str) -> Result<Option<Bytes>> {
        match self.get(key, None).await? {
            Some(r) => Ok(Some(r.bytes().await.map_err(storage_error)?)),
            None => Ok(None),
        }
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&object_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Every key under `prefix` (tests and the cleanup job's audits).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        use futures::TryStreamExt;
        let prefix = object_path(prefix)?;
        let metas: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(storage_error)?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }

    /// A URL that reads `key` until `now + ttl` (Unix seconds).
    pub async fn url(&self, key: &str, now: i64, ttl: Duration) -> Result<String> {
        match &*self.delivery {
            Delivery::Local { signer, base } => {
                let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
                let (exp, sig) = signer.sign(key, now.saturating_add(ttl));
                Ok(format!("{base}{FILES_PATH}/{key}?exp={exp}&sig={sig}"))
            }
            Delivery::S3 { signer } => {
                let url = signer
                    .signed_url(http::Method::GET, &object_path(key)?, ttl)
                    .await
                    .map_err(storage_error)?;
                Ok(url.to_string())
            }
        }
    }
}

/// The local media directory under a data directory.
pub fn local_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}
