//! Building an [`IdentityService`] from configuration, shared by the `nova` all-in-one
//! and `identity-service`.

use std::path::Path;
use std::sync::Arc;

use nova_core::config::{ConfigSource, EnvVar, NovaConfig};
use nova_core::{Error, Result, SystemClock};
use nova_db::Db;
use nova_events::RelayWaker;
use nova_kv::Kv;

use crate::store::SqlIdentityStore;
use crate::{
    IdentityConfig, IdentityService, KeySet, LogMailer, OAuthProviders, OidcProvider, SecretBox,
    SigningKey, TokenConfig, keys_from_store,
};

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

/// The variables identity reads (beside nova-core's).
pub const IDENTITY_ENV_VARS: &[EnvVar] = &[
    var(
        "JWT_PRIVATE_KEY_PATH",
        "PEM file of the RS256 signing key; unset: generated and kept in the database",
        None,
    ),
    var(
        "JWT_KEY_ID",
        "kid of the configured signing key",
        Some("k1"),
    ),
    var(
        "JWT_PREVIOUS_PUBLIC_KEY_PATH",
        "PEM public key of the previous signing key, still accepted during rotation",
        None,
    ),
    var("JWT_ISSUER", "iss of access tokens", Some("nova")),
    var("JWT_AUDIENCE", "aud of access tokens", Some("nova")),
    var(
        "IDENTITY_JWKS_URL",
        "where services other than identity fetch the token keys",
        Some("http://identity-service:8081/.well-known/jwks.json"),
    ),
    var(
        "IDENTITY_ENCRYPTION_KEYS",
        "kid:base64(32 bytes)[,...] for TOTP secrets and provider tokens; first encrypts; unset: a key file in NOVA_DATA_DIR",
        None,
    ),
    var(
        "GOOGLE_CLIENT_ID",
        "Google OpenID Connect client id (enables Google login)",
        None,
    ),
    var("GOOGLE_CLIENT_SECRET", "Google client secret", None),
    var(
        "APPLE_CLIENT_ID",
        "Sign in with Apple service id (enables Apple login)",
        None,
    ),
    var("APPLE_CLIENT_SECRET", "Apple client-secret JWT", None),
    var(
        "OAUTH_REDIRECT_URIS",
        "comma-separated redirect URIs accepted by the OAuth start endpoint",
        None,
    ),
];

/// `NOVA_SERVICE_SECRET`, at least 32 characters when set.
fn service_secret(src: &ConfigSource) -> Result<Option<String>> {
    match read(src, "NOVA_SERVICE_SECRET") {
        Some(secret) if secret.len() < 32 => Err(Error::invalid(
            "NOVA_SERVICE_SECRET",
            "must be at least 32 characters",
        )),
        other => Ok(other),
    }
}

fn read(src: &ConfigSource, name: &str) -> Option<String> {
    src.raw(name).map(|(v, _)| v.to_owned())
}

fn read_file(var: &str, path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(var, format!("cannot read {path}: {e}")))
}

/// The signing keys: configured PEM files, or the ones kept in the store.
async fn signing_keys(src: &ConfigSource, store: &SqlIdentityStore) -> Result<KeySet> {
    let Some(path) = read(src, "JWT_PRIVATE_KEY_PATH") else {
        return keys_from_store(store, &SystemClock::shared()).await;
    };
    let kid = read(src, "JWT_KEY_ID").unwrap_or_else(|| "k1".to_owned());
    let key = SigningKey::from_pem(kid, &read_file("JWT_PRIVATE_KEY_PATH", &path)?)
        .map_err(|e| Error::invalid("JWT_PRIVATE_KEY_PATH", e.message().to_owned()))?;
    let mut keys = KeySet::new(key);
    if let Some(previous) = read(src, "JWT_PREVIOUS_PUBLIC_KEY_PATH") {
        let pem = read_file("JWT_PREVIOUS_PUBLIC_KEY_PATH", &previous)?;
        let public = crate::VerifyingKey::from_pem("previous", &pem)
            .map_err(|e| Error::invalid("JWT_PREVIOUS_PUBLIC_KEY_PATH", e.message().to_owned()))?;
        keys = keys.with_verification_key(public);
    }
    Ok(keys)
}

/// The encryption keys: configured, or a key file created once in the data directory.
fn secrets(src: &ConfigSource, data_dir: &Path) -> Result<SecretBox> {
    if let Some(keys) = read(src, "IDENTITY_ENCRYPTION_KEYS") {
        return SecretBox::from_config(&keys, "IDENTITY_ENCRYPTION_KEYS");
    }
    let path = data_dir.join("identity-encryption.key");
    let config = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| Error::invalid("NOVA_DATA_DIR", e.to_string()))?;
            let text = SecretBox::new_key_config("local1");
            write_private(&path, &text)?;
            text
        }
    };
    SecretBox::from_config(config.trim(), "IDENTITY_ENCRYPTION_KEYS")
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        Error::invalid(
            "NOVA_DATA_DIR",
            format!("cannot create {}: {e}", path.display()),
        )
    })?;
    file.write_all(text.as_bytes()).map_err(Error::internal)
}

fn providers(src: &ConfigSource) -> OAuthProviders {
    let redirects: Vec<String> = read(src, "OAUTH_REDIRECT_URIS")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut providers = OAuthProviders::default();
    if let (Some(id), Some(secret)) = (
        read(src, "GOOGLE_CLIENT_ID"),
        read(src, "GOOGLE_CLIENT_SECRET"),
    ) {
        providers = providers.with(
            "google",
            OidcProvider::google(&id, &secret, redirects.clone()),
        );
    }
    if let (Some(id), Some(secret)) = (
        read(src, "APPLE_CLIENT_ID"),
        read(src, "APPLE_CLIENT_SECRET"),
    ) {
        providers = providers.with("apple", OidcProvider::apple(&id, &secret, redirects));
    }
    providers
}

/// The identity service for a process: keys, encryption, providers and limits from
/// `config`, storage on `db`, rate limits on `kv`, events waking `relay`.
pub async fn service_from_config(
    config: &NovaConfig,
    db: &Db,
    kv: &Kv,
    relay: Option<RelayWaker>,
) -> Result<Arc<IdentityService>> {
    let src = &config.source;
    let store = SqlIdentityStore::new(db.clone());
    let keys = signing_keys(src, &store).await?;
    let tokens = TokenConfig::new(
        read(src, "JWT_ISSUER").unwrap_or_else(|| "nova".into()),
        read(src, "JWT_AUDIENCE").unwrap_or_else(|| "nova".into()),
    );
    let mut builder = IdentityService::builder(Arc::new(store), Arc::new(keys))
        .rate_limiter(kv.rate_limiter.clone())
        .mailer(Arc::new(LogMailer))
        .secrets(secrets(src, &config.data_dir)?)
        .oauth(providers(src))
        .config(IdentityConfig {
            tokens,
            service_secret: service_secret(src)?,
            ..IdentityConfig::default()
        });
    if let Some(relay) = relay {
        builder = builder.relay(relay);
    }
    Ok(Arc::new(builder.build()))
}
