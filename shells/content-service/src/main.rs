//! `content-service`: posts, threads, quotes, likes, bookmarks and edits on their own,
//! gRPC on 9082 and REST on 8082 (`CONTENT_SERVICE_GRPC_PORT` /
//! `CONTENT_SERVICE_HTTP_PORT`), for the k8s layout. It reaches social, graph and users
//! through their gRPC clients when `SOCIAL_SERVICE_URL` / `GRAPH_SERVICE_URL` /
//! `USER_SERVICE_URL` are set (e.g. `http://social-service:9093`), else runs them
//! in-process on the same database. Callers are authenticated from identity's published
//! keys (`IDENTITY_JWKS_URL`).

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_content::grpc::ContentGrpcServer;
use nova_content::setup::Remotes;
use nova_core::config::NovaConfig;
use nova_runtime::shell::remote;
use nova_runtime::{Infra, Server, ServiceSpec};

const SERVICE: &str = "content-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no content-service")?;
    // Configuration first: a bad URL must stop the process before anything starts.
    let social_channel = remote(&config, "SOCIAL_SERVICE_URL")?;
    let graph_channel = remote(&config, "GRAPH_SERVICE_URL")?;
    let users_channel = remote(&config, "USER_SERVICE_URL")?;
    let mut infra = Infra::start(&config, spec.name).await?;
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    infra.track(jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, infra.shutdown_token()));
    let auth: Arc<dyn Authenticator> = jwks;
    let remotes = Remotes {
        graph: graph_channel,
        users: users_channel,
        social: social_channel,
    };
    let content = nova_content::setup::content(
        &infra.db,
        &infra.relay,
        Infra::cursor_codec(&config)?,
        remotes,
    )
    .content;

    let server = Server::new(spec, &config)
        .add_grpc_service(ContentGrpcServer::new(content.clone(), auth.clone()).into_service())
        .http_routes(nova_content::http::router(content, auth));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "content-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
