//! Building an [`IdentityService`] from configuration, shared by the `nova` all-in-one
//! and `identity-service`.

use std::path::Path;
use std::sync::Arc;

use nova_core::config::{ConfigError, ConfigSource, EnvVar, NovaConfig, require_production_secret};
use nova_core::{Error, Result, SystemClock};
use nova_db::Db;
use nova_events::RelayWaker;
use nova_kv::Kv;

use crate::store::SqlIdentityStore;
use crate::{
    HashLimits, IdentityConfig, IdentityService, KeySet, Mailer, OAuthProviders, OidcProvider,
    PasskeyConfig, Passwords, SecretBox, SigningKey, TokenConfig, keys_from_store,
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
    var(
        "NOVA_ADMIN_USERNAMES",
        "comma-separated usernames that are admins (how the first admin is made; admins then grant moderator and admin)",
        None,
    ),
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
        "OIDC_ISSUER",
        "issuer of any OpenID Connect provider (enables it; needs the OIDC_* endpoints and client)",
        None,
    ),
    var(
        "OIDC_PROVIDER",
        "the name that provider goes by in the OAuth endpoints",
        Some("oidc"),
    ),
    var("OIDC_AUTHORIZATION_URL", "its authorization endpoint", None),
    var("OIDC_TOKEN_URL", "its token endpoint", None),
    var("OIDC_JWKS_URL", "its JWKS endpoint", None),
    var("OIDC_CLIENT_ID", "Nova's client id at that provider", None),
    var(
        "OIDC_CLIENT_SECRET",
        "Nova's client secret at that provider",
        None,
    ),
    var(
        "OAUTH_REDIRECT_URIS",
        "comma-separated redirect URIs accepted by the OAuth start endpoint",
        None,
    ),
    var(
        "WEBAUTHN_RP_ID",
        "passkey relying party id: the domain passkeys are bound to (required in production)",
        Some(crate::PasskeyConfig::DEV_RP_ID),
    ),
    var(
        "WEBAUTHN_ORIGINS",
        "comma-separated origins passkey ceremonies may come from, on WEBAUTHN_RP_ID (required in production)",
        Some(crate::PasskeyConfig::DEV_ORIGIN),
    ),
];

/// `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS`: in development the embedded `localhost`
/// default; in production both must be set (passkeys are bound to the domain for good, so
/// a silent default would register credentials no real origin can use).
pub fn passkey_config(config: &NovaConfig) -> Result<PasskeyConfig> {
    let src = &config.source;
    let rp_id = read(src, "WEBAUTHN_RP_ID").filter(|v| !v.trim().is_empty());
    let origins = read(src, "WEBAUTHN_ORIGINS").filter(|v| !v.trim().is_empty());
    if config.is_production() {
        for (name, value) in [("WEBAUTHN_RP_ID", &rp_id), ("WEBAUTHN_ORIGINS", &origins)] {
            if value.is_none() {
                return Err(Error::invalid(
                    name,
                    "must be set when NOVA_ENV=production (the passkey relying party)",
                ));
            }
        }
    }
    let rp_id = rp_id.unwrap_or_else(|| PasskeyConfig::DEV_RP_ID.to_owned());
    let origins: Vec<String> = origins
        .unwrap_or_else(|| PasskeyConfig::DEV_ORIGIN.to_owned())
        .split(',')
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    PasskeyConfig::new(&rp_id, &origins)
}

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

/// `NOVA_ADMIN_USERNAMES`, lower-cased.
fn admin_usernames(src: &ConfigSource) -> Vec<String> {
    read(src, "NOVA_ADMIN_USERNAMES")
        .map(|v| {
            v.split(',')
                .map(|u| u.trim().trim_start_matches('@').to_lowercase())
                .filter(|u| !u.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn read(src: &ConfigSource, name: &str) -> Option<String> {
    src.raw(name).map(|(v, _)| v.to_owned())
}

fn read_file(var: &str, path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(var, format!("cannot read {path}: {e}")))
}

/// The signing keys: configured PEM files, or the ones kept in the store (sealed under
/// `secrets`).
async fn signing_keys(
    src: &ConfigSource,
    store: &SqlIdentityStore,
    secrets: &SecretBox,
) -> Result<KeySet> {
    let Some(path) = read(src, "JWT_PRIVATE_KEY_PATH") else {
        return keys_from_store(store, &SystemClock::shared(), secrets).await;
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

/// The configured login providers: Google (`GOOGLE_CLIENT_ID`/`_SECRET`), Apple
/// (`APPLE_CLIENT_ID`/`_SECRET`) and any one OpenID Connect provider by its endpoints
/// (`OIDC_ISSUER` with `OIDC_AUTHORIZATION_URL`, `OIDC_TOKEN_URL`, `OIDC_JWKS_URL`,
/// `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`; named `OIDC_PROVIDER`, default `oidc`).
fn providers(src: &ConfigSource) -> Result<OAuthProviders> {
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
        providers = providers.with(
            "apple",
            OidcProvider::apple(&id, &secret, redirects.clone()),
        );
    }
    if let Some(issuer) = read(src, "OIDC_ISSUER") {
        let required = |var: &str| {
            read(src, var).ok_or_else(|| Error::invalid(var, "is required when OIDC_ISSUER is set"))
        };
        let provider = OidcProvider {
            issuer,
            authorization_endpoint: required("OIDC_AUTHORIZATION_URL")?,
            token_endpoint: required("OIDC_TOKEN_URL")?,
            jwks_uri: required("OIDC_JWKS_URL")?,
            client_id: required("OIDC_CLIENT_ID")?,
            client_secret: required("OIDC_CLIENT_SECRET")?,
            redirect_uris: redirects,
        };
        let name = read(src, "OIDC_PROVIDER").unwrap_or_else(|| "oidc".to_owned());
        providers = providers.with(&name, provider);
    }
    Ok(providers)
}

/// Production refuses to start without its secrets (one line naming the variable): a
/// generated per-process encryption key would leave TOTP secrets, provider tokens and the
/// stored signing key unreadable on every other replica, and a placeholder is public.
/// `NOVA_CURSOR_SECRET` is checked with the rest of nova-core's configuration.
pub fn check_production_secrets(config: &NovaConfig) -> Result<()> {
    let src = &config.source;
    let production = config.is_production();
    require_production_secret(
        src,
        production,
        "IDENTITY_ENCRYPTION_KEYS",
        "kid:base64(32 random bytes), the same on every identity replica",
    )
    .map_err(|e| match e {
        ConfigError::ProductionSecret { var, reason } => Error::invalid(var, reason),
        other => Error::invalid("IDENTITY_ENCRYPTION_KEYS", other),
    })?;
    if production && let Some(path) = read(src, "JWT_PRIVATE_KEY_PATH") {
        // A configured key file must hold a real key (checked when loaded); a placeholder
        // path or PEM is refused here with the variable's name.
        let pem = read_file("JWT_PRIVATE_KEY_PATH", &path)?;
        if nova_core::config::is_placeholder(&path) || nova_core::config::is_placeholder(&pem) {
            return Err(Error::invalid(
                "JWT_PRIVATE_KEY_PATH",
                "is still the deploy/.env.example placeholder; point it at the real signing key",
            ));
        }
    }
    Ok(())
}

/// `IDENTITY_MAX_CONCURRENT_HASHES`, else sized from the memory limit.
pub fn hash_limits(src: &ConfigSource, m_cost_kib: u32) -> Result<HashLimits> {
    let configured = src
        .get_with(
            "IDENTITY_MAX_CONCURRENT_HASHES",
            "a number from 1 to 1024",
            |s| s.parse::<usize>().ok().filter(|n| (1..=1024).contains(n)),
        )
        .map_err(|e| Error::invalid("IDENTITY_MAX_CONCURRENT_HASHES", e.to_string()))?;
    Ok(configured.map_or_else(|| HashLimits::from_memory(m_cost_kib), HashLimits::new))
}

/// The identity service for a process: keys, encryption, providers and limits from
/// `config`, storage on `db`, rate limits on `kv`, events waking `relay`, email through
/// `mailer` (the composition root's choice: SMTP or the log).
pub async fn service_from_config(
    config: &NovaConfig,
    db: &Db,
    kv: &Kv,
    relay: Option<RelayWaker>,
    mailer: Arc<dyn Mailer>,
) -> Result<Arc<IdentityService>> {
    check_production_secrets(config)?;
    let passkeys = passkey_config(config)?;
    let src = &config.source;
    let passwords = Passwords::owasp();
    let passwords = passwords
        .clone()
        .with_limits(hash_limits(src, passwords.m_cost_kib())?);
    let secrets = secrets(src, &config.data_dir)?;
    let store = SqlIdentityStore::new(db.clone());
    let keys = signing_keys(src, &store, &secrets).await?;
    let tokens = TokenConfig::new(
        read(src, "JWT_ISSUER").unwrap_or_else(|| "nova".into()),
        read(src, "JWT_AUDIENCE").unwrap_or_else(|| "nova".into()),
    );
    let mut builder = IdentityService::builder(Arc::new(store), Arc::new(keys))
        .rate_limiter(kv.rate_limiter.clone())
        .mailer(mailer)
        .passwords(passwords)
        .secrets(secrets)
        .oauth(providers(src)?)
        .config(IdentityConfig {
            tokens,
            service_secret: service_secret(src)?,
            admin_usernames: admin_usernames(src),
            passkeys,
            ..IdentityConfig::default()
        });
    if let Some(relay) = relay {
        builder = builder.relay(relay);
    }
    // Ended sessions go straight to the set every other service's verifier reads.
    builder = builder.revocations(Arc::new(nova_auth::KvRevocations::new(
        kv.cache.clone(),
        kv.pubsub.clone(),
    )));
    Ok(Arc::new(builder.build()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The value `deploy/.env.example` ships for `name`.
    fn example(name: &str) -> String {
        include_str!("../../../deploy/.env.example")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} is in deploy/.env.example"))
            .to_owned()
    }

    fn config(pairs: &[(&str, &str)]) -> NovaConfig {
        NovaConfig::from_source(&ConfigSource::from_pairs(pairs.to_vec())).unwrap()
    }

    const CURSOR: (&str, &str) = (
        "NOVA_CURSOR_SECRET",
        "q8Yh3v0Jx2mB7cN1pL4sT6wZ9rE5uK0aG3dF8hJ2",
    );

    #[test]
    fn production_refuses_a_missing_or_placeholder_encryption_key() {
        let real = SecretBox::new_key_config("k1");
        let placeholder = example("IDENTITY_ENCRYPTION_KEYS");
        for (pairs, ok) in [
            (vec![("NOVA_ENV", "production"), CURSOR], false),
            (
                vec![
                    ("NOVA_ENV", "production"),
                    CURSOR,
                    ("IDENTITY_ENCRYPTION_KEYS", placeholder.as_str()),
                ],
                false,
            ),
            (
                vec![
                    ("NOVA_ENV", "production"),
                    CURSOR,
                    ("IDENTITY_ENCRYPTION_KEYS", real.as_str()),
                ],
                true,
            ),
            // Development keeps the key file in the data directory.
            (vec![], true),
        ] {
            let result = check_production_secrets(&config(&pairs));
            assert_eq!(result.is_ok(), ok, "{pairs:?}: {result:?}");
            if let Err(e) = result {
                assert_eq!(e.field(), Some("IDENTITY_ENCRYPTION_KEYS"));
                assert!(!e.to_string().contains('\n'));
            }
        }
    }

    #[test]
    fn the_env_example_placeholders_are_placeholders() {
        for name in ["IDENTITY_ENCRYPTION_KEYS", "NOVA_CURSOR_SECRET"] {
            assert!(
                nova_core::config::is_placeholder(&example(name)),
                "{name} in deploy/.env.example must read change-me"
            );
        }
        let err = NovaConfig::from_source(&ConfigSource::from_pairs([
            ("NOVA_ENV", "production".to_owned()),
            ("NOVA_CURSOR_SECRET", example("NOVA_CURSOR_SECRET")),
        ]))
        .unwrap_err();
        assert!(err.to_string().starts_with("NOVA_CURSOR_SECRET "), "{err}");
    }

    #[test]
    fn production_refuses_a_placeholder_signing_key_file() {
        let dir = std::env::temp_dir().join(format!("nova-jwt-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwt.pem");
        std::fs::write(&path, "change-me: put the real PEM here").unwrap();
        let real = SecretBox::new_key_config("k1");
        let path_text = path.display().to_string();
        let err = check_production_secrets(&config(&[
            ("NOVA_ENV", "production"),
            CURSOR,
            ("IDENTITY_ENCRYPTION_KEYS", real.as_str()),
            ("JWT_PRIVATE_KEY_PATH", path_text.as_str()),
        ]))
        .unwrap_err();
        assert_eq!(err.field(), Some("JWT_PRIVATE_KEY_PATH"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn passkey_settings_default_in_development_and_are_required_in_production() {
        let dev = passkey_config(&config(&[])).unwrap();
        assert_eq!(dev.rp_id(), "localhost");
        assert_eq!(dev.origins()[0].as_str(), "http://localhost:8000/");
        let real = SecretBox::new_key_config("k1");
        let production = [
            ("NOVA_ENV", "production"),
            CURSOR,
            ("IDENTITY_ENCRYPTION_KEYS", real.as_str()),
        ];
        let err = passkey_config(&config(&production)).unwrap_err();
        assert_eq!(err.field(), Some("WEBAUTHN_RP_ID"));
        let mut pairs = production.to_vec();
        pairs.push(("WEBAUTHN_RP_ID", "example.com"));
        let err = passkey_config(&config(&pairs)).unwrap_err();
        assert_eq!(err.field(), Some("WEBAUTHN_ORIGINS"));
        pairs.push((
            "WEBAUTHN_ORIGINS",
            "https://app.example.com, https://example.com",
        ));
        let ok = passkey_config(&config(&pairs)).unwrap();
        assert_eq!(ok.rp_id(), "example.com");
        assert_eq!(ok.origins().len(), 2);
        // An origin off the relying party's domain is refused, naming the variable.
        for origins in [
            "https://evil.test",
            "https://notexample.com",
            "ftp://example.com",
            "nope",
        ] {
            let err = passkey_config(&config(&[
                ("WEBAUTHN_RP_ID", "example.com"),
                ("WEBAUTHN_ORIGINS", origins),
            ]))
            .unwrap_err();
            assert_eq!(err.field(), Some("WEBAUTHN_ORIGINS"), "{origins}");
        }
        let err =
            passkey_config(&config(&[("WEBAUTHN_RP_ID", "https://example.com/")])).unwrap_err();
        assert_eq!(err.field(), Some("WEBAUTHN_RP_ID"));
    }

    #[test]
    fn hash_limits_come_from_the_variable_or_memory() {
        let src = ConfigSource::from_pairs([("IDENTITY_MAX_CONCURRENT_HASHES", "3")]);
        assert_eq!(hash_limits(&src, 19_456).unwrap().max_concurrent, 3);
        let bad = ConfigSource::from_pairs([("IDENTITY_MAX_CONCURRENT_HASHES", "0")]);
        assert_eq!(
            hash_limits(&bad, 19_456).unwrap_err().field(),
            Some("IDENTITY_MAX_CONCURRENT_HASHES")
        );
        let sized = hash_limits(&ConfigSource::default(), 19_456).unwrap();
        assert!(sized.max_concurrent >= 1 && sized.max_queued >= 16);
    }
}
