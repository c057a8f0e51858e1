//! `identity-service`: the identity domain on its own, gRPC on 9081 and REST on 8081
//! (`IDENTITY_SERVICE_GRPC_PORT` / `IDENTITY_SERVICE_HTTP_PORT`), for the k8s layout.
//! The same configuration as every Nova shell; a bad value stops it with one line.

use std::process::ExitCode;
use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_identity::IdentityApi;
use nova_identity::grpc::IdentityGrpcServer;
use nova_runtime::{Infra, Server, ServiceSpec};

const SERVICE: &str = "identity-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no identity-service")?;
    let infra = Infra::start(&config, spec.name).await?;
    let api: Arc<dyn IdentityApi> = nova_identity::setup::service_from_config(
        &config,
        &infra.db,
        &infra.kv,
        Some(infra.relay.clone()),
    )
    .await
    .map_err(|e| format!("identity: {e}"))?;

    let server = Server::new(spec, &config)
        .add_grpc_service(IdentityGrpcServer::new(api.clone()).into_service())
        .http_routes(nova_identity::http::router(api));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "identity-service is up");

    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
