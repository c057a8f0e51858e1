//! Typed configuration from environment variables, layered over an optional `nova.toml`.
//!
//! Every variable Nova reads is declared once in [`ENV_VARS`] (name, meaning, default);
//! generators of `deploy/.env.example` read the same list. A variable that is not set
//! means its embedded default, never a crash; a variable that is set to something
//! unusable is a startup error naming it:
//!
//! ```
//! use nova_core::config::{ConfigSource, NovaConfig};
//!
//! let ok = ConfigSource::from_pairs([("NOVA_HTTP_PORT", "8080")]);
//! assert_eq!(NovaConfig::from_source(&ok).unwrap().http_port, Some(8080));
//!
//! let bad = ConfigSource::from_pairs([("NOVA_HTTP_PORT", "abc")]);
//! let err = NovaConfig::from_source(&bad).unwrap_err();
//! assert_eq!(err.to_string(), r#"invalid NOVA_HTTP_PORT="abc" (environment): expected a port number 0-65535"#);
//! ```
//!
//! `nova.toml` (or the file named by `NOVA_CONFIG`) is a flat table using the same names:
//! `DATABASE_URL = "postgres://..."`. The environment wins over the file.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// One configuration variable Nova reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name, e.g. `DATABASE_URL`.
    pub name: &'static str,
    /// One line saying what it does.
    pub description: &'static str,
    /// The value used when it is unset (`None`: the feature is off or embedded).
    pub default: Option<&'static str>,
}

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

/// Every process-wide variable Nova reads. Per-service port variables
/// (`IDENTITY_SERVICE_HTTP_PORT`, ...) come from the service registry in `nova-runtime`.
pub const ENV_VARS: &[EnvVar] = &[
    var(
        "NOVA_ENV",
        "development or production (production turns off GraphiQL and introspection)",
        Some("development"),
    ),
    var(
        "NOVA_CONFIG",
        "path of an optional TOML file with the same keys as these variables",
        Some("nova.toml"),
    ),
    var(
        "NOVA_DATA_DIR",
        "directory for embedded storage (SQLite, search index, media)",
        Some("./nova-data"),
    ),
    var(
        "NOVA_BIND_ADDR",
        "address the HTTP and gRPC listeners bind to (0.0.0.0 in containers)",
        Some("127.0.0.1"),
    ),
    var("NOVA_HTTP_PORT", "overrides the service's HTTP port", None),
    var(
        "NOVA_GRPC_PORT",
        "overrides the service's gRPC port (default: HTTP port + 1000)",
        None,
    ),
    var(
        "NOVA_LOG",
        "tracing filter, e.g. info or nova_identity=debug (RUST_LOG also works)",
        Some("info"),
    ),
    var("NOVA_LOG_FORMAT", "pretty or json", Some("pretty")),
    var(
        "NOVA_SHUTDOWN_GRACE_SECONDS",
        "how long in-flight requests may run after SIGTERM",
        Some("30"),
    ),
    var(
        "NOVA_TRUSTED_PROXIES",
        "comma-separated CIDRs of proxies whose X-Forwarded-For / X-Real-IP are believed (the right-most hop not in them is the client); empty: none, the TCP peer is the client",
        None,
    ),
    var(
        "NOVA_SERVICE_SECRET",
        "deployment secret (32+ characters) that service credentials derive from; identity mints service tokens with it, other services derive their own credential from it unless NOVA_SERVICE_CREDENTIAL is given; unset: no service identity, internal RPCs are refused",
        None,
    ),
    var(
        "NOVA_SERVICE_CREDENTIAL",
        "this service's own credential, base64url(HMAC-SHA256(NOVA_SERVICE_SECRET, service name)); takes precedence over NOVA_SERVICE_SECRET outside identity",
        None,
    ),
    var(
        "IDENTITY_SERVICE_TOKEN_URL",
        "where services ask identity for their service token; default: /api/v1/auth/service-token beside IDENTITY_JWKS_URL",
        None,
    ),
    var(
        "NOVA_CURSOR_SECRET",
        "key (32+ bytes) that authenticates pagination cursors; generated per data dir if unset",
        None,
    ),
    var(
        "IDENTITY_MAX_CONCURRENT_HASHES",
        "argon2 password hashes run at once (19 MiB each); unset: sized from the memory limit",
        None,
    ),
    var(
        "DATABASE_URL",
        "postgres://... or sqlite:...; unset: SQLite under NOVA_DATA_DIR",
        None,
    ),
    var(
        "DATABASE_MAX_CONNECTIONS",
        "connection pool size",
        Some("10"),
    ),
    var(
        "REDIS_URL",
        "redis://...; unset: in-process cache, rate limits and pub/sub",
        None,
    ),
    var(
        "KAFKA_BROKERS",
        "comma-separated Kafka bootstrap servers; unset: in-process event log",
        None,
    ),
    var(
        "EVENT_RETENTION_HOURS",
        "hours a published event (and a consumer's processed-mark) is kept once every consumer is past it; the safety window for redeliveries",
        Some("168"),
    ),
    var(
        "TRENDING_SNAPSHOT_INTERVAL_SECS",
        "seconds between trending snapshots to SQL (one more is written on shutdown)",
        Some("60"),
    ),
    var(
        "IDENTITY_SERVICE_URL",
        "gRPC URL of identity-service (read by graphql-gateway); default http://identity-service:9081",
        None,
    ),
    var(
        "FEED_SERVICE_URL",
        "gRPC URL of feed-service (read by graphql-gateway); default http://feed-service:9084",
        None,
    ),
    var(
        "CLICKHOUSE_URL",
        "ClickHouse HTTP URL analytics writes to (http://host:8123); unset: SQL tables in DATABASE_URL",
        None,
    ),
    var(
        "CLICKHOUSE_DATABASE",
        "ClickHouse database analytics uses (created if missing)",
        Some("nova"),
    ),
    var(
        "ANALYTICS_RETENTION_DAYS",
        "days raw analytics events are kept (daily rollups stay)",
        Some("90"),
    ),
    var(
        "ANALYTICS_SERVICE_URL",
        "gRPC URL of analytics-service (read by graphql-gateway); default http://analytics-service:9094",
        None,
    ),
    var(
        "SEARCH_BACKEND",
        "search engine: tantivy (an index under NOVA_DATA_DIR/search) or opensearch (ELASTICSEARCH_URL)",
        Some("tantivy"),
    ),
    var(
        "ELASTICSEARCH_URL",
        "OpenSearch/Elasticsearch URL search uses when SEARCH_BACKEND=opensearch",
        None,
    ),
    var(
        "ELASTICSEARCH_USERNAME",
        "OpenSearch/Elasticsearch basic-auth user (unset: no auth)",
        None,
    ),
    var(
        "ELASTICSEARCH_PASSWORD",
        "OpenSearch/Elasticsearch basic-auth password",
        None,
    ),
    var(
        "SEARCH_INDEX",
        "alias search reads and writes on OpenSearch/Elasticsearch (indices are ALIAS-<time>)",
        Some("nova-search"),
    ),
    var(
        "SEARCH_SERVICE_URL",
        "gRPC URL of search-service (read by graphql-gateway); default http://search-service:9087",
        None,
    ),
    var(
        "TRUST_SAFETY_SERVICE_URL",
        "gRPC URL of trust-safety-service (read by content-service and graphql-gateway); default http://trust-safety-service:9095",
        None,
    ),
    var(
        "CHAT_SERVICE_URL",
        "gRPC URL of realtime-chat-service (read by graphql-gateway); default http://realtime-chat-service:9086",
        None,
    ),
    var(
        "NOTIFICATION_SERVICE_URL",
        "gRPC URL of notification-service (read by graphql-gateway); default http://notification-service:9088",
        None,
    ),
    var(
        "RANKING_SERVICE_URL",
        "gRPC URL of ranking-service (ranking + trending; read by feed-service and graphql-gateway); unset in feed-service: in-process",
        None,
    ),
    var(
        "RANKING_MODEL_PATH",
        "ranking model: LightGBM .txt, XGBoost .json or linear .toml; unset: the built-in logistic model",
        None,
    ),
];

/// Whether `value` is a placeholder from `deploy/.env.example` (every secret there reads
/// `change-me...`), not a real secret.
pub fn is_placeholder(value: &str) -> bool {
    value.to_ascii_lowercase().contains("change-me")
}

/// In production, `name` must be set and must not be the `.env.example` placeholder: a
/// secret that silently falls back to a per-process default (a generated key) breaks
/// replicas and restarts, and a placeholder is public.
pub fn require_production_secret(
    src: &ConfigSource,
    production: bool,
    name: &str,
    what: &str,
) -> Result<(), ConfigError> {
    if !production {
        return Ok(());
    }
    let reason = match src.raw(name) {
        None => format!("must be set when NOVA_ENV=production ({what})"),
        Some((value, _)) if is_placeholder(value) => format!(
            "is still the deploy/.env.example placeholder; set a real secret when NOVA_ENV=production ({what})"
        ),
        Some(_) => return Ok(()),
    };
    Err(ConfigError::ProductionSecret {
        var: name.to_owned(),
        reason,
    })
}

/// Where a value came from (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A process environment variable.
    Environment,
    /// The configuration file.
    File,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Environment => "environment",
            Origin::File => "config file",
        })
    }
}

/// A configuration problem, reported once at startup.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable is set to a value that cannot be used.
    #[error("invalid {var}={value:?} ({origin}): expected {expected}")]
    Invalid {
        /// The variable's name.
        var: String,
        /// The value found.
        value: String,
        /// What it should look like.
        expected: String,
        /// Where it was found.
        origin: Origin,
    },
    /// A secret production needs is unset or still the `deploy/.env.example` placeholder.
    #[error("{var} {reason}")]
    ProductionSecret {
        /// The variable's name.
        var: String,
        /// What is wrong ("must be set when NOVA_ENV=production ...").
        reason: String,
    },
    /// The configuration file could not be read or parsed.
    #[error("config file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Raw configuration values: the environment layered over the config file.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    file: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

impl ConfigSource {
    /// Reads the process environment and, if present, `NOVA_CONFIG` / `./nova.toml`.
    pub fn load() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let explicit = env.get("NOVA_CONFIG").cloned();
        let path = explicit.clone().unwrap_or_else(|| "nova.toml".to_owned());
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => parse_file(&path, &text)?,
            // A missing default file is fine; a missing explicitly named one is not.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                BTreeMap::new()
            }
            Err(e) => {
                return Err(ConfigError::File {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        Ok(Self { file, env })
    }

    /// A source with exactly these environment values (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            file: BTreeMap::new(),
            env: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Adds the contents of a TOML config file under the environment.
    pub fn with_file_text(mut self, path: &str, text: &str) -> Result<Self, ConfigError> {
        self.file = parse_file(path, text)?;
        Ok(self)
    }

    /// The raw value of `name` and where it came from; empty values count as unset.
    pub fn raw(&self, name: &str) -> Option<(&str, Origin)> {
        if let Some(v) = self.env.get(name).filter(|v| !v.is_empty()) {
            return Some((v, Origin::Environment));
        }
        self.file
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| (v.as_str(), Origin::File))
    }

    /// Parses `name` if set; `expected` describes a valid value for the error message.
    pub fn get<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ConfigError> {
        self.get_with(name, expected, |s| s.parse().ok())
    }

    /// Like [`get`](Self::get) with a custom parser returning `None` for bad values.
    pub fn get_with<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        match self.raw(name) {
            None => Ok(None),
            Some((value, origin)) => {
                parse(value.trim())
                    .map(Some)
                    .ok_or_else(|| ConfigError::Invalid {
                        var: name.to_owned(),
                        value: value.to_owned(),
                        expected: expected.to_owned(),
                        origin,
                    })
            }
        }
    }

    /// Reads a port variable.
    pub fn port(&self, name: &str) -> Result<Option<u16>, ConfigError> {
        self.get(name, "a port number 0-65535")
    }
}

fn parse_file(path: &str, text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::File {
            path: path.to_owned(),
            reason: e.message().to_owned(),
        })?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let known = ENV_VARS.iter().any(|v| v.name == key)
            || key.ends_with("_HTTP_PORT")
            || key.ends_with("_GRPC_PORT")
            || key.ends_with("_PORT");
        if !known {
            return Err(ConfigError::File {
                path: path.to_owned(),
                reason: format!("unknown key {key}"),
            });
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    reason: format!("{key}: expected a string or number, found {other}"),
                });
            }
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// Deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// Local development: GraphiQL and introspection on.
    #[default]
    Development,
    /// Production: introspection off, stricter defaults.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    #[default]
    Pretty,
    /// One JSON object per line (for log shippers).
    Json,
}

/// The configuration every Nova process shares.
#[derive(Debug, Clone)]
pub struct NovaConfig {
    /// `NOVA_ENV`.
    pub environment: Environment,
    /// `NOVA_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `NOVA_BIND_ADDR`.
    pub bind_addr: IpAddr,
    /// `NOVA_HTTP_PORT` (overrides the service's registered port).
    pub http_port: Option<u16>,
    /// `NOVA_GRPC_PORT`.
    pub grpc_port: Option<u16>,
    /// `NOVA_LOG` (or `RUST_LOG`).
    pub log_filter: String,
    /// `NOVA_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `NOVA_SHUTDOWN_GRACE_SECONDS`.
    pub shutdown_grace: std::time::Duration,
    /// `NOVA_TRUSTED_PROXIES`.
    pub trusted_proxies: crate::client::TrustedProxies,
    /// `NOVA_CURSOR_SECRET`.
    pub cursor_secret: Option<String>,
    /// `DATABASE_URL`.
    pub database_url: Option<String>,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: u32,
    /// `REDIS_URL`.
    pub redis_url: Option<String>,
    /// `KAFKA_BROKERS`.
    pub kafka_brokers: Option<Vec<String>>,
    /// `EVENT_RETENTION_HOURS`.
    pub event_retention: std::time::Duration,
    /// The raw source, for crates that read their own variables.
    pub source: ConfigSource,
    /// The service this process runs (set by `nova_runtime::shell::main`): the name its
    /// service identity is asked for. `None` in tools and tests.
    pub service: Option<String>,
}

impl NovaConfig {
    /// Loads from the process environment and config file.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_source(&ConfigSource::load()?)
    }

    /// Builds the typed configuration from raw values.
    pub fn from_source(src: &ConfigSource) -> Result<Self, ConfigError> {
        let environment = src
            .get_with("NOVA_ENV", "development or production", |s| {
                match s.to_ascii_lowercase().as_str() {
                    "development" | "dev" => Some(Environment::Development),
                    "production" | "prod" => Some(Environment::Production),
                    _ => None,
                }
            })?
            .unwrap_or_default();
        let log_format = src
            .get_with("NOVA_LOG_FORMAT", "pretty or json", |s| {
                match s.to_ascii_lowercase().as_str() {
                    "pretty" | "text" => Some(LogFormat::Pretty),
                    "json" => Some(LogFormat::Json),
                    _ => None,
                }
            })?
            .unwrap_or_default();
        let log_filter = match src.raw("NOVA_LOG").or_else(|| src.raw("RUST_LOG")) {
            Some((v, _)) => v.to_owned(),
            None => "info".to_owned(),
        };
        let database_url = src.get_with(
            "DATABASE_URL",
            "a postgres://, postgresql:// or sqlite: URL",
            |s| {
                (s.starts_with("postgres://")
                    || s.starts_with("postgresql://")
                    || s.starts_with("sqlite:"))
                .then(|| s.to_owned())
            },
        )?;
        let redis_url = src.get_with("REDIS_URL", "a redis:// or rediss:// URL", |s| {
            (s.starts_with("redis://") || s.starts_with("rediss://")).then(|| s.to_owned())
        })?;
        let kafka_brokers = src.get_with("KAFKA_BROKERS", "host:port[,host:port...]", |s| {
            let brokers: Vec<String> = s.split(',').map(|b| b.trim().to_owned()).collect();
            brokers
                .iter()
                .all(|b| {
                    b.rsplit_once(':')
                        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
                })
                .then_some(brokers)
        })?;
        let cursor_secret = src.get_with("NOVA_CURSOR_SECRET", "at least 32 characters", |s| {
            (s.len() >= 32).then(|| s.to_owned())
        })?;
        require_production_secret(
            src,
            environment == Environment::Production,
            "NOVA_CURSOR_SECRET",
            "32+ random bytes, the same on every replica",
        )?;
        Ok(Self {
            environment,
            data_dir: src
                .get("NOVA_DATA_DIR", "a directory path")?
                .unwrap_or_else(|| PathBuf::from("./nova-data")),
            bind_addr: src
                .get(
                    "NOVA_BIND_ADDR",
                    "an IP address such as 127.0.0.1 or 0.0.0.0",
                )?
                .unwrap_or(IpAddr::from([127, 0, 0, 1])),
            http_port: src.port("NOVA_HTTP_PORT")?,
            grpc_port: src.port("NOVA_GRPC_PORT")?,
            log_filter,
            log_format,
            shutdown_grace: std::time::Duration::from_secs(
                src.get("NOVA_SHUTDOWN_GRACE_SECONDS", "a whole number of seconds")?
                    .unwrap_or(30),
            ),
            trusted_proxies: src
                .get(
                    "NOVA_TRUSTED_PROXIES",
                    "comma-separated CIDRs such as 10.0.0.0/8,127.0.0.1/32",
                )?
                .unwrap_or_default(),
            cursor_secret,
            database_url,
            database_max_connections: src
                .get_with("DATABASE_MAX_CONNECTIONS", "a number from 1 to 1000", |s| {
                    s.parse::<u32>().ok().filter(|n| (1..=1000).contains(n))
                })?
                .unwrap_or(10),
            redis_url,
            kafka_brokers,
            event_retention: std::time::Duration::from_secs(
                3600 * src
                    .get_with(
                        "EVENT_RETENTION_HOURS",
                        "a number of hours from 1 to 87600",
                        |s| s.parse::<u64>().ok().filter(|h| (1..=87_600).contains(h)),
                    )?
                    .unwrap_or(168),
            ),
            source: src.clone(),
            service: None,
        })
    }

    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_a_missing_or_placeholder_cursor_secret() {
        let prod = |secret: Option<&str>| {
            let mut pairs = vec![("NOVA_ENV", "production")];
            pairs.extend(secret.map(|s| ("NOVA_CURSOR_SECRET", s)));
            NovaConfig::from_source(&ConfigSource::from_pairs(pairs))
        };
        let missing = prod(None).unwrap_err().to_string();
        assert!(
            missing.starts_with("NOVA_CURSOR_SECRET must be set"),
            "{missing}"
        );
        assert!(!missing.contains('\n'));
        let placeholder = prod(Some(
            "change-me-to-32-or-more-random-bytes-openssl-rand-base64-48",
        ))
        .unwrap_err()
        .to_string();
        assert!(placeholder.contains("NOVA_CURSOR_SECRET"), "{placeholder}");
        assert!(placeholder.contains("placeholder"), "{placeholder}");
        let real = "q8Yh3v0Jx2mB7cN1pL4sT6wZ9rE5uK0aG3dF8hJ2";
        assert!(prod(Some(real)).unwrap().is_production());
        // Development keeps its generated default.
        assert!(NovaConfig::from_source(&ConfigSource::default()).is_ok());
    }

    #[test]
    fn defaults_need_no_variables() {
        let cfg = NovaConfig::from_source(&ConfigSource::default()).unwrap();
        assert_eq!(cfg.http_port, None);
        assert_eq!(cfg.data_dir, PathBuf::from("./nova-data"));
        assert_eq!(cfg.database_url, None);
        assert_eq!(cfg.database_max_connections, 10);
        assert!(cfg.trusted_proxies.is_empty());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("NOVA_HTTP_PORT", "abc"),
            ("NOVA_GRPC_PORT", "70000"),
            ("NOVA_ENV", "staging-ish"),
            ("NOVA_LOG_FORMAT", "xml"),
            ("NOVA_BIND_ADDR", "localhost:80"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("REDIS_URL", "http://x"),
            ("KAFKA_BROKERS", "broker-without-port"),
            ("NOVA_CURSOR_SECRET", "short"),
            ("NOVA_SHUTDOWN_GRACE_SECONDS", "-1"),
            ("NOVA_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"),
        ] {
            let err =
                NovaConfig::from_source(&ConfigSource::from_pairs([(var, value)])).expect_err(var);
            assert!(err.to_string().contains(var), "{err}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn environment_wins_over_file() {
        let src = ConfigSource::from_pairs([("NOVA_HTTP_PORT", "9999")])
            .with_file_text(
                "nova.toml",
                "NOVA_HTTP_PORT = 1234\nREDIS_URL = \"redis://file\"",
            )
            .unwrap();
        let cfg = NovaConfig::from_source(&src).unwrap();
        assert_eq!(cfg.http_port, Some(9999));
        assert_eq!(cfg.redis_url.as_deref(), Some("redis://file"));
    }

    #[test]
    fn file_errors_name_the_origin_and_unknown_keys() {
        let src = ConfigSource::default()
            .with_file_text("nova.toml", "NOVA_HTTP_PORT = \"x\"")
            .unwrap();
        let err = NovaConfig::from_source(&src).unwrap_err();
        assert!(err.to_string().contains("config file"), "{err}");
        let err = ConfigSource::default()
            .with_file_text("nova.toml", "DATABSE_URL = \"typo\"")
            .unwrap_err();
        assert!(err.to_string().contains("DATABSE_URL"));
    }

    #[test]
    fn every_declared_variable_is_unique() {
        let mut names: Vec<_> = ENV_VARS.iter().map(|v| v.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ENV_VARS.len());
    }
}
