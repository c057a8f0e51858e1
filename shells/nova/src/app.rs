//! Wiring of the all-in-one process.

use nova_core::config::NovaConfig;
use nova_runtime::{Infra, SERVICES, Server, ServiceSpec};

/// The gateway's spec: the all-in-one answers on the gateway's port.
fn gateway_spec() -> Result<&'static ServiceSpec, String> {
    ServiceSpec::by_name("graphql-gateway")
        .ok_or_else(|| "service registry has no graphql-gateway".to_owned())
}

/// Runs until SIGTERM / SIGINT.
pub async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = gateway_spec()?;
    let infra = Infra::start(&config, spec.name).await?;

    // Domains: each writes through `db`, wakes the relay after commits, limits with `kv`.
    let identity = nova_identity::setup::service_from_config(
        &config,
        &infra.db,
        &infra.kv,
        Some(infra.relay.clone()),
    )
    .await
    .map_err(|e| format!("identity: {e}"))?;

    let server = Server::new(spec, &config).http_routes(nova_identity::http::router(identity));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let http = server.http_addr();
    tracing::info!(%http, data = %infra.db_location, "nova is up");
    println!("nova: listening on http://{http} (health /api/v1/health, metrics /metrics)");
    println!(
        "nova: data in {}; cache and rate limits: {}",
        infra.db_location, infra.kv_location
    );
    println!(
        "nova: {} services in the registry; embedded event log and storage",
        SERVICES.len()
    );

    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
