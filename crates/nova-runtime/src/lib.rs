//! # nova-runtime
//!
//! Everything a Nova service binary (a "shell") needs to serve one domain:
//!
//! - [`SERVICES`] / [`ServiceSpec`]: the one list of deployable services with their
//!   ports, backends and sizing; the deploy/ and monitoring/ generators (`nova-deploygen`,
//!   which no service links) read it too;
//! - [`resolve_ports`]: `NOVA_HTTP_PORT` > `<SERVICE>_HTTP_PORT` > the registered port
//!   (gRPC likewise, defaulting to HTTP + 1000);
//! - [`Server`]: axum HTTP and tonic gRPC side by side on `NOVA_BIND_ADDR`, with
//!   `GET /api/v1/health`, `GET /api/v1/ready` (the registered [`ReadinessCheck`]s),
//!   `GET /metrics`, `grpc.health.v1` health and gRPC reflection v1 and v1alpha; request ids,
//!   tracing spans, metrics, a body limit and a panic catcher on every HTTP request;
//!   graceful shutdown on [`shutdown_signal`] within `NOVA_SHUTDOWN_GRACE_SECONDS`;
//! - [`metrics_names`] and [`record_db_pool`]: the metric names every shell shares;
//! - [`Infra`]: the database, key-value store, outbox relay and pool metrics every shell
//!   starts the same way, with their readiness checks and shutdown.
//!
//! Looking a service up:
//!
//! ```
//! use nova_runtime::{Backend, ServiceSpec};
//!
//! let feed = ServiceSpec::by_name("feed-service").unwrap();
//! assert_eq!((feed.http_port, feed.grpc_port), (8084, Some(9084)));
//! assert!(feed.uses(Backend::ClickHouse));
//! assert_eq!(feed.http_port_env(), "FEED_SERVICE_HTTP_PORT");
//! ```
//!
//! A shell's `main`:
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use nova_core::config::NovaConfig;
//! use nova_runtime::{check_fn, Server, ServiceSpec};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = NovaConfig::load()?;
//!     nova_core::telemetry::init_tracing(&config);
//!     let spec = ServiceSpec::by_name("identity-service").ok_or("unknown service")?;
//!     Server::new(spec, &config)
//!         .http_routes(Router::new().route("/api/v1/hello", get(|| async { "hello" })))
//!         // .add_grpc_service(IdentityServiceServer::new(service))
//!         .readiness_check("postgres", check_fn(|| async { Ok(()) }))
//!         .serve() // until SIGTERM / SIGINT, then drain
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! Tests bind ephemeral ports (`NOVA_HTTP_PORT=0`, `NOVA_GRPC_PORT=0`) and read them
//! back from [`Server::bind`]'s [`BoundServer`].

mod grpc;
mod http;
mod infra;
mod metrics;
mod ports;
mod readiness;
mod server;
mod services;
pub mod shell;
mod shutdown;

pub use grpc::{GrpcMetrics, GrpcMetricsLayer, code_name};
pub use http::{DEFAULT_BODY_LIMIT, HEALTH_PATH, METRICS_PATH, READY_PATH};
pub use infra::{CURSOR_KEY_FILE, Infra, open_database, redact};
pub use metrics::{describe_metrics, metrics_names, record_db_pool};
pub use ports::{Ports, resolve_ports};
pub use readiness::{CheckOutcome, CheckStatus, FnCheck, ReadinessCheck, check_fn};
pub use server::{
    BoundServer, DEFAULT_READINESS_INTERVAL, DEFAULT_READINESS_TIMEOUT, ServeError, Server,
};
pub use services::{Backend, ResourceClass, SERVICES, ServiceSpec};
pub use shutdown::shutdown_signal;
