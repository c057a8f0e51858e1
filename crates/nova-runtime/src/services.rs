//! The one list of Nova's deployable services: names, ports, backends, sizing.
//!
//! Shells look themselves up here for their default ports; the generators of `deploy/`
//! and `monitoring/` read the same list, so ports and names cannot drift between code,
//! compose files, Kubernetes manifests and dashboards.

use std::fmt;

/// An infrastructure engine a service talks to when it runs scaled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// PostgreSQL 14+ (relational state, outbox).
    Postgres,
    /// Redis 7 (cache, rate limits, pub/sub, timelines).
    Redis,
    /// Kafka (domain events, consumer groups).
    Kafka,
    /// ClickHouse (analytics, feature store).
    ClickHouse,
    /// Neo4j 5 (social graph queries).
    Neo4j,
    /// Elasticsearch 8 (full-text search).
    Elasticsearch,
    /// S3 or MinIO (media objects).
    S3,
}

impl Backend {
    /// Every backend, in declaration order.
    pub const ALL: &'static [Backend] = &[
        Backend::Postgres,
        Backend::Redis,
        Backend::Kafka,
        Backend::ClickHouse,
        Backend::Neo4j,
        Backend::Elasticsearch,
        Backend::S3,
    ];

    /// Lower-case name used in generated files and readiness check names (`postgres`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Redis => "redis",
            Backend::Kafka => "kafka",
            Backend::ClickHouse => "clickhouse",
            Backend::Neo4j => "neo4j",
            Backend::Elasticsearch => "elasticsearch",
            Backend::S3 => "s3",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much CPU and memory a service is expected to need (drives generated k8s resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceClass {
    /// Light request/response work over a database.
    Small,
    /// Moderate fan-out or crypto work.
    Medium,
    /// Hot paths: ranking, feed assembly, search, long-lived connections.
    Large,
}

/// One deployable service (a shell binary) and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Service and binary name, e.g. `identity-service`.
    pub name: &'static str,
    /// The library crates the shell serves, e.g. `["nova-identity"]`.
    pub crates: &'static [&'static str],
    /// Default HTTP port.
    pub http_port: u16,
    /// Default gRPC port (HTTP + 1000); `None` for the GraphQL gateway.
    pub grpc_port: Option<u16>,
    /// Engines the service uses when scaled out (embedded defaults need none).
    pub backends: &'static [Backend],
    /// Expected sizing.
    pub resources: ResourceClass,
    /// One line saying what the service does.
    pub description: &'static str,
}

use Backend::{ClickHouse, Elasticsearch, Kafka, Neo4j, Postgres, Redis, S3};
use ResourceClass::{Large, Medium, Small};

const fn svc(
    name: &'static str,
    crates: &'static [&'static str],
    http_port: u16,
    backends: &'static [Backend],
    resources: ResourceClass,
    description: &'static str,
) -> ServiceSpec {
    ServiceSpec {
        name,
        crates,
        http_port,
        grpc_port: Some(http_port + 1000),
        backends,
        resources,
        description,
    }
}

/// The 13 domain services and the GraphQL gateway, with the ports fixed by the
/// deployment convention (gRPC = HTTP + 1000; the gateway serves HTTP only on 8000).
///
/// Backends follow the deployment summary's database column; Redis and Kafka are added
/// where the domain uses the shared cache / rate limiter / pub/sub (Redis) or publishes
/// or consumes domain events (Kafka):
/// - Kafka: every domain service, since every one either writes an outbox whose relay
///   publishes to Kafka (identity, user, content, media, chat, social, graph,
///   trust-safety) or consumes events (feed, ranking, search, notification, analytics).
/// - Redis: identity (sessions, login rate limits), user (profile cache), content (hot
///   post cache), feed (materialised timelines), realtime-chat (pub/sub fan-out, presence),
///   notification (seed), ranking (trending sorted sets), social (counters, rate limits).
pub const SERVICES: &[ServiceSpec] = &[
    svc(
        "identity-service",
        &["nova-identity"],
        8081,
        &[Postgres, Redis, Kafka],
        Medium,
        "Registration, login, sessions and tokens (JWT), OAuth, 2FA",
    ),
    svc(
        "user-service",
        &["nova-user"],
        8080,
        &[Postgres, Redis, Kafka],
        Small,
        "User profiles and settings",
    ),
    svc(
        "content-service",
        &["nova-content"],
        8082,
        &[Postgres, Redis, Kafka],
        Medium,
        "Posts, comments and likes",
    ),
    svc(
        "feed-service",
        &["nova-feed"],
        8084,
        &[Postgres, ClickHouse, Redis, Kafka],
        Large,
        "Personalised home and following feeds",
    ),
    svc(
        "media-service",
        &["nova-media"],
        8085,
        &[Postgres, S3, Kafka],
        Medium,
        "Media uploads, storage and delivery metadata",
    ),
    svc(
        "realtime-chat-service",
        &["nova-chat", "nova-e2ee"],
        8086,
        &[Postgres, Redis, Kafka],
        Large,
        "End-to-end encrypted messaging and calls over long-lived connections",
    ),
    svc(
        "search-service",
        &["nova-search"],
        8087,
        &[Elasticsearch, Kafka],
        Large,
        "Full-text search over users, posts and hashtags",
    ),
    svc(
        "notification-service",
        &["nova-notification"],
        8088,
        &[Postgres, Redis, Kafka],
        Small,
        "In-app, push, email and SMS notifications",
    ),
    svc(
        "graph-service",
        &["nova-graph"],
        8091,
        &[Neo4j, Kafka],
        Medium,
        "Social graph queries: followers, following, suggestions",
    ),
    svc(
        "ranking-service",
        &["nova-ranking", "nova-trending"],
        8092,
        &[ClickHouse, Redis, Kafka],
        Large,
        "Content ranking and trending scores",
    ),
    svc(
        "social-service",
        &["nova-social"],
        8093,
        &[Postgres, Neo4j, Redis, Kafka],
        Medium,
        "Follows, shares and blocks",
    ),
    svc(
        "analytics-service",
        &["nova-analytics"],
        8094,
        &[ClickHouse, Kafka],
        Medium,
        "Engagement events and behaviour metrics",
    ),
    svc(
        "trust-safety-service",
        &["nova-trust-safety"],
        8095,
        &[Postgres, Redis, Kafka],
        Small,
        "Reports, moderation, appeals, audit log and pre-publish rules",
    ),
    ServiceSpec {
        name: "graphql-gateway",
        crates: &["nova-gateway"],
        http_port: 8000,
        grpc_port: None,
        backends: &[],
        resources: Medium,
        description: "GraphQL API for mobile and web clients over the domain services",
    },
];

impl ServiceSpec {
    /// Looks a service up by name (`identity-service`, `graphql-gateway`, ...).
    pub fn by_name(name: &str) -> Option<&'static ServiceSpec> {
        SERVICES.iter().find(|s| s.name == name)
    }

    /// The upper-case prefix of the service's variables: `identity-service` gives
    /// `IDENTITY_SERVICE`.
    pub fn env_prefix(&self) -> String {
        self.name.to_ascii_uppercase().replace('-', "_")
    }

    /// The variable overriding the HTTP port: `IDENTITY_SERVICE_HTTP_PORT`, or
    /// `GRAPHQL_GATEWAY_PORT` for the gateway (which has no gRPC port).
    pub fn http_port_env(&self) -> String {
        match self.grpc_port {
            Some(_) => format!("{}_HTTP_PORT", self.env_prefix()),
            None => format!("{}_PORT", self.env_prefix()),
        }
    }

    /// The variable overriding the gRPC port (`IDENTITY_SERVICE_GRPC_PORT`); `None`
    /// for a service without gRPC.
    pub fn grpc_port_env(&self) -> Option<String> {
        self.grpc_port
            .map(|_| format!("{}_GRPC_PORT", self.env_prefix()))
    }

    /// Whether the service uses `backend` when scaled out.
    pub fn uses(&self, backend: Backend) -> bool {
        self.backends.contains(&backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn fourteen_services_with_unique_names_and_ports() {
        assert_eq!(SERVICES.len(), 14);
        let names: HashSet<_> = SERVICES.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SERVICES.len());
        let mut ports = HashSet::new();
        for s in SERVICES {
            assert!(ports.insert(s.http_port), "duplicate port {}", s.http_port);
            if let Some(grpc) = s.grpc_port {
                assert!(ports.insert(grpc), "duplicate port {grpc}");
            }
        }
    }

    #[test]
    fn grpc_is_http_plus_1000_and_only_the_gateway_has_none() {
        for s in SERVICES {
            match s.grpc_port {
                Some(grpc) => assert_eq!(grpc, s.http_port + 1000, "{}", s.name),
                None => assert_eq!(s.name, "graphql-gateway"),
            }
        }
    }

    #[test]
    fn ports_match_the_deployment_convention() {
        let expected = [
            ("identity-service", 8081),
            ("user-service", 8080),
            ("content-service", 8082),
            ("feed-service", 8084),
            ("media-service", 8085),
            ("realtime-chat-service", 8086),
            ("search-service", 8087),
            ("notification-service", 8088),
            ("graph-service", 8091),
            ("ranking-service", 8092),
            ("social-service", 8093),
            ("analytics-service", 8094),
            ("trust-safety-service", 8095),
            ("graphql-gateway", 8000),
        ];
        for (name, port) in expected {
            assert_eq!(
                ServiceSpec::by_name(name).unwrap().http_port,
                port,
                "{name}"
            );
        }
        assert!(ServiceSpec::by_name("nope").is_none());
    }

    #[test]
    fn env_var_names() {
        let id = ServiceSpec::by_name("identity-service").unwrap();
        assert_eq!(id.env_prefix(), "IDENTITY_SERVICE");
        assert_eq!(id.http_port_env(), "IDENTITY_SERVICE_HTTP_PORT");
        assert_eq!(
            id.grpc_port_env().as_deref(),
            Some("IDENTITY_SERVICE_GRPC_PORT")
        );
        let chat = ServiceSpec::by_name("realtime-chat-service").unwrap();
        assert_eq!(chat.http_port_env(), "REALTIME_CHAT_SERVICE_HTTP_PORT");
        let ts = ServiceSpec::by_name("trust-safety-service").unwrap();
        assert_eq!(
            ts.grpc_port_env().as_deref(),
            Some("TRUST_SAFETY_SERVICE_GRPC_PORT")
        );
        let gw = ServiceSpec::by_name("graphql-gateway").unwrap();
        assert_eq!(gw.http_port_env(), "GRAPHQL_GATEWAY_PORT");
        assert_eq!(gw.grpc_port_env(), None);
    }

    #[test]
    fn backends_follow_the_seed_table() {
        let uses = |name, b| ServiceSpec::by_name(name).unwrap().uses(b);
        assert!(uses("feed-service", ClickHouse) && uses("feed-service", Postgres));
        assert!(uses("graph-service", Neo4j) && !uses("graph-service", Postgres));
        assert!(uses("media-service", S3));
        assert!(uses("search-service", Elasticsearch));
        assert!(uses("notification-service", Redis));
        assert!(uses("social-service", Neo4j));
        assert!(
            ServiceSpec::by_name("graphql-gateway")
                .unwrap()
                .backends
                .is_empty()
        );
    }
}
