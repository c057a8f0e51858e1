//! Nova's composition root: between the domain crates and the shell binaries.
//!
//! Every binary names its service and calls [`main`] (the all-in-one `nova` calls
//! [`App::start`] and [`App::serve`] itself, seeding the demo in between). The service's
//! [`Plan`](plan::Plan) says which parts it serves; [`Domains::build`] builds each part
//! it needs exactly once — in-process on the shared database, or as a gRPC client when
//! its `*_SERVICE_URL` is set — with read caches only in the all-in-one on SQLite (the
//! sole writer), and returns what to run: HTTP routes, gRPC services, event consumers.
//! The serve tail (readiness → bind → serve → shutdown) and the token verification
//! (identity in-process, else its JWKS) are written here once.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     nova_app::main("graph-service").await
//! }
//! ```

mod build;
mod chat;
pub mod cli;
mod host;
mod mail;
mod media;
mod moderation;
pub mod plan;
mod relations;
pub mod search;

use std::process::ExitCode;

use nova_core::config::NovaConfig;
use nova_runtime::{SERVICES, Server};

pub use build::{Built, Domains, GrpcMount, Settings};
pub use host::Host;
pub use plan::{PLANS, Part, Plan};

/// Loads the configuration, starts tracing, builds `service`'s domains and serves them
/// until SIGTERM / SIGINT; a failed start is one line on stderr, exit code 2.
pub async fn main(service: &'static str) -> ExitCode {
    if let Err(exit) = cli::parse(service, cli::command(service)) {
        return exit;
    }
    nova_runtime::shell::main(service, move |config| async move {
        App::start(service, config).await?.serve().await
    })
    .await
}

/// A process with its domains built, not yet serving.
pub struct App {
    plan: &'static Plan,
    spec: &'static nova_runtime::ServiceSpec,
    config: NovaConfig,
    host: Host,
    built: Built,
}

impl App {
    /// Reads `service`'s configuration (a bad value stops here, before anything
    /// starts), starts its backends and builds its domains.
    pub async fn start(service: &str, config: NovaConfig) -> Result<Self, String> {
        let plan = Plan::of(service)?;
        let settings = Settings::read(plan, &config)?;
        let spec = settings.spec;
        let mut host = Host::start(&config, spec.name, plan.stateless).await?;
        let built = Domains::build(settings, &mut host, &config).await?;
        Ok(Self {
            plan,
            spec,
            config,
            host,
            built,
        })
    }

    /// The domains built for this process.
    pub fn domains(&self) -> &Domains {
        &self.built.domains
    }

    /// Starts the consumers, checks readiness, binds, serves until SIGTERM / SIGINT,
    /// then stops the background work and closes the database.
    pub async fn serve(self) -> Result<(), String> {
        let Self {
            plan,
            spec,
            config,
            mut host,
            built,
        } = self;
        for (consumer, handler) in built.consumers {
            host.consume(consumer, handler)?;
        }
        let mut server = Server::new(spec, &config)
            .http_routes(built.http)
            .streamed_routes(built.streamed);
        for mount in built.grpc {
            server = mount(server);
        }
        let server = host
            .readiness_checks(server)
            .bind()
            .await
            .map_err(|e| e.to_string())?;
        let (http, grpc) = (server.http_addr(), server.grpc_addr());
        tracing::info!(%http, ?grpc, data = %host.location(), "{} is up", plan.service);
        if plan.all_in_one {
            println!(
                "{}: listening on http://{http} (health /api/v1/health, metrics /metrics)",
                plan.service
            );
            if let Some(infra) = host.infra() {
                println!(
                    "{}: data in {}; cache and rate limits: {}",
                    plan.service, infra.db_location, infra.kv_location
                );
            }
            println!(
                "{}: {} services in the registry; embedded event log and storage",
                plan.service,
                SERVICES.len()
            );
        }
        let served = server
            .serve_until(nova_runtime::shutdown_signal())
            .await
            .map_err(|e| e.to_string());
        host.shutdown().await;
        served
    }
}
