//! `graph-service`: the relationship engine on its own, gRPC on 9091
//! (`GRAPH_SERVICE_GRPC_PORT`; health, readiness and metrics on 8091), for the k8s
//! layout. The API is internal: it does no viewer authorization, so only other Nova
//! services (social) may reach it. Cursors are signed with `NOVA_CURSOR_SECRET` (set it
//! when several replicas serve the same clients).

use std::process::ExitCode;
use std::sync::Arc;

use nova_core::SystemClock;
use nova_core::config::NovaConfig;
use nova_graph::grpc::GraphGrpcServer;
use nova_graph::{GraphService, SqlGraphStore};
use nova_runtime::{Infra, Server, ServiceSpec};

const SERVICE: &str = "graph-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no graph-service")?;
    let infra = Infra::start(&config, spec.name).await?;
    let graph = GraphService::new(
        Arc::new(SqlGraphStore::new(infra.db.clone())),
        SystemClock::shared(),
        Infra::cursor_codec(&config)?,
    )
    .with_relay(infra.relay.clone());

    let server = Server::new(spec, &config)
        .add_grpc_service(GraphGrpcServer::new(Arc::new(graph)).into_service());
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "graph-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
