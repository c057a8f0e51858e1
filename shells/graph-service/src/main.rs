//! `graph-service`: the relationship engine on its own, gRPC on 9091
//! (`GRAPH_SERVICE_GRPC_PORT`; health, readiness and metrics on 8091), for the k8s
//! layout. The API is internal: it does no viewer authorization, so only other Nova
//! services (social) may reach it. Cursors are signed with `NOVA_CURSOR_SECRET` (set it
//! when several replicas serve the same clients).
//!
//! What it runs is `nova_app`'s plan `graph-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("graph-service").await
}
