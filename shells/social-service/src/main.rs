//! `social-service`: the social actions on their own, gRPC on 9093 and REST on 8093
//! (`SOCIAL_SERVICE_GRPC_PORT` / `SOCIAL_SERVICE_HTTP_PORT`), for the k8s layout.
//! It reaches graph and users through their gRPC clients when `GRAPH_SERVICE_URL` /
//! `USER_SERVICE_URL` are set (e.g. `http://graph-service:9091`), else runs them
//! in-process on the same database. Callers are authenticated from identity's published
//! keys (`IDENTITY_JWKS_URL`). Reposts ask content-service whether the reposter may see
//! the post (`CONTENT_SERVICE_URL`, e.g. `http://content-service:9082`); unset, no post
//! is visible and every repost is `NotFound`.

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_content::grpc::ContentGrpcClient;
use nova_core::SystemClock;
use nova_core::config::NovaConfig;
use nova_graph::grpc::GraphGrpcClient;
use nova_graph::{GraphApi, GraphService, SqlGraphStore};
use nova_runtime::shell::remote;
use nova_runtime::{Infra, Server, ServiceSpec};
use nova_social::grpc::SocialGrpcServer;
use nova_social::store::SqlSocialStore;
use nova_social::{NoPosts, PostAccess, SocialApi, SocialService};
use nova_user::grpc::UserGrpcClient;
use nova_user::{UserApi, UserService, store::SqlUserStore};

const SERVICE: &str = "social-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no social-service")?;
    // Configuration first: a bad URL must stop the process before anything starts
    // (a running JWKS refresh would already be logging).
    let graph_channel = remote(&config, "GRAPH_SERVICE_URL")?;
    let users_channel = remote(&config, "USER_SERVICE_URL")?;
    let content_channel = remote(&config, "CONTENT_SERVICE_URL")?;
    let mut infra = Infra::start(&config, spec.name).await?;
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    infra.track(jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, infra.shutdown_token()));
    let auth: Arc<dyn Authenticator> = jwks;
    let (db, relay) = (infra.db.clone(), infra.relay.clone());

    let graph: Arc<dyn GraphApi> = match graph_channel {
        Some(channel) => Arc::new(GraphGrpcClient::from_channel(channel)),
        None => Arc::new(
            GraphService::new(
                Arc::new(SqlGraphStore::new(db.clone())),
                SystemClock::shared(),
                Infra::cursor_codec(&config)?,
            )
            .with_relay(relay.clone()),
        ),
    };
    let users: Arc<dyn UserApi> = match users_channel {
        Some(channel) => Arc::new(UserGrpcClient::from_channel(channel)),
        None => Arc::new(
            UserService::new(Arc::new(SqlUserStore::new(db.clone()))).with_relay(relay.clone()),
        ),
    };
    // Content asks social who may see whom and social asks content about posts: over
    // gRPC the cycle is only two lazy channels.
    let posts: Arc<dyn PostAccess> = match content_channel {
        Some(channel) => Arc::new(ContentGrpcClient::from_channel(channel)),
        None => Arc::new(NoPosts),
    };
    let store = Arc::new(SqlSocialStore::new(db));
    let social: Arc<dyn SocialApi> =
        Arc::new(SocialService::new(graph, users, posts, store).with_relay(relay));

    let server = Server::new(spec, &config)
        .add_grpc_service(SocialGrpcServer::new(social.clone(), auth.clone()).into_service())
        .http_routes(nova_social::http::router(social, auth));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "social-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
