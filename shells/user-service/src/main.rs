//! `user-service`: profiles, settings and the account lifecycle on their own, gRPC on
//! 9080 and REST on 8080 (`USER_SERVICE_GRPC_PORT` / `USER_SERVICE_HTTP_PORT`), for the
//! k8s layout. Callers are authenticated from identity's published keys
//! (`IDENTITY_JWKS_URL`), without a call to identity per request.

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_core::config::NovaConfig;
use nova_runtime::{Infra, Server, ServiceSpec};
use nova_user::grpc::UserGrpcServer;
use nova_user::store::SqlUserStore;
use nova_user::{UserApi, UserService};

const SERVICE: &str = "user-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no user-service")?;
    let mut infra = Infra::start(&config, spec.name).await?;
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    infra.track(jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, infra.shutdown_token()));
    let auth: Arc<dyn Authenticator> = jwks;
    let users: Arc<dyn UserApi> = Arc::new(
        UserService::new(Arc::new(SqlUserStore::new(infra.db.clone())))
            .with_relay(infra.relay.clone()),
    );

    let server = Server::new(spec, &config)
        .add_grpc_service(UserGrpcServer::new(users.clone(), auth.clone()).into_service())
        .http_routes(nova_user::http::router(users, auth));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "user-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
