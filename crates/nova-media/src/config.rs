//! The variables nova-media reads, and its settings from them.

use std::time::Duration;

use nova_core::config::{ConfigError, ConfigSource, EnvVar};

use crate::storage::S3Settings;

const fn var(
    name: &'static str,
    description: &'static str,
    default: Option<&'static str>,
) -> EnvVar {
    EnvVar {
        name,
        description,
        default,
    }
}

/// Every variable the media domain reads (listed by `--help` and in `deploy/.env.example`).
pub const MEDIA_ENV_VARS: &[EnvVar] = &[
    var(
        "MEDIA_SERVICE_URL",
        "gRPC URL of media-service (http://media-service:9085); unset: media runs in-process",
        None,
    ),
    var(
        "S3_BUCKET",
        "bucket for media objects; unset: media files live under NOVA_DATA_DIR/media",
        None,
    ),
    var(
        "S3_ENDPOINT",
        "S3 endpoint (empty for AWS; http://minio:9000 for MinIO)",
        None,
    ),
    var("S3_REGION", "S3 region", Some("us-east-1")),
    var("S3_ACCESS_KEY_ID", "S3 access key id", None),
    var("S3_SECRET_ACCESS_KEY", "S3 secret access key", None),
    var(
        "S3_FORCE_PATH_STYLE",
        "path-style S3 addressing (true for MinIO and other S3-compatible servers)",
        Some("false"),
    ),
    var(
        "MEDIA_PUBLIC_BASE_URL",
        "public base URL of locally stored media (e.g. https://media.example.com); unset: URLs are relative to the service",
        None,
    ),
    var(
        "MEDIA_URL_TTL_SECS",
        "how long signed media URLs stay valid, in seconds",
        Some("3600"),
    ),
];

/// nova-media's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSettings {
    /// S3 storage when `S3_BUCKET` is set; else local disk.
    pub s3: Option<S3Settings>,
    /// `MEDIA_PUBLIC_BASE_URL` without a trailing slash (`""`: relative URLs).
    pub public_base_url: String,
    /// `MEDIA_URL_TTL_SECS`.
    pub url_ttl: Duration,
}

impl MediaSettings {
    /// Reads the variables; a bad value is an error naming it.
    pub fn from_source(src: &ConfigSource) -> Result<Self, ConfigError> {
        let text = |name: &str| src.raw(name).map(|(v, _)| v.trim().to_owned());
        let url = |name: &str| {
            src.get_with(name, "an http:// or https:// URL", |s| {
                (s.starts_with("http://") || s.starts_with("https://"))
                    .then(|| s.trim_end_matches('/').to_owned())
            })
        };
        let path_style = src
            .get_with("S3_FORCE_PATH_STYLE", "true or false", |s| {
                match s.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Some(true),
                    "false" | "0" | "no" => Some(false),
                    _ => None,
                }
            })?
            .unwrap_or(false);
        let s3 = match text("S3_BUCKET") {
            None => None,
            Some(bucket) => Some(S3Settings {
                bucket,
                endpoint: url("S3_ENDPOINT")?,
                region: text("S3_REGION"),
                access_key_id: text("S3_ACCESS_KEY_ID"),
                secret_access_key: text("S3_SECRET_ACCESS_KEY"),
                path_style,
            }),
        };
        let ttl = src
            .get_with(
                "MEDIA_URL_TTL_SECS",
                "a number of seconds from 60 to 604800",
                |s| s.parse::<u64>().ok().filter(|n| (60..=604_800).contains(n)),
            )?
            .unwrap_or(3600);
        Ok(Self {
            s3,
            public_base_url: url("MEDIA_PUBLIC_BASE_URL")?.unwrap_or_default(),
            url_ttl: Duration::from_secs(ttl),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_by_default_s3_with_a_bucket() {
        let local =
            MediaSettings::from_source(&ConfigSource::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(local.s3, None);
        assert_eq!(local.url_ttl, Duration::from_secs(3600));
        let s3 = MediaSettings::from_source(&ConfigSource::from_pairs([
            ("S3_BUCKET", "nova-media"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("S3_FORCE_PATH_STYLE", "true"),
        ]))
        .unwrap()
        .s3
        .unwrap();
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.path_style);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err =
            MediaSettings::from_source(&ConfigSource::from_pairs([("MEDIA_URL_TTL_SECS", "5")]))
                .unwrap_err();
        assert!(err.to_string().contains("MEDIA_URL_TTL_SECS"), "{err}");
        let err = MediaSettings::from_source(&ConfigSource::from_pairs([
            ("S3_BUCKET", "b"),
            ("S3_ENDPOINT", "minio:9000"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("S3_ENDPOINT"), "{err}");
    }
}
