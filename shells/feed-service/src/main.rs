//! `feed-service`: home timelines, catch-up and explore on their own, gRPC on 9084 and
//! REST on 8084 (`FEED_SERVICE_GRPC_PORT` / `FEED_SERVICE_HTTP_PORT`), for the k8s
//! layout. Timelines live in Redis when `REDIS_URL` is set (in-process otherwise). The
//! graph is reached over gRPC when `GRAPH_SERVICE_URL` is set, ranking and trending when
//! `RANKING_SERVICE_URL` is (ranking-service hosts both); else they run in-process on the
//! same database. Content runs in-process on the same database (with social and users
//! over gRPC when `SOCIAL_SERVICE_URL` / `USER_SERVICE_URL` are set): the feed reads
//! posts for viewers in background work (fan-out backfill, rebuilds) where no caller
//! token exists to forward to content-service. Callers are authenticated from
//! identity's published keys (`IDENTITY_JWKS_URL`).

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_content::ContentApi;
use nova_content::setup::Remotes;
use nova_core::config::NovaConfig;
use nova_feed::grpc::FeedGrpcServer;
use nova_feed::setup::Domains;
use nova_ranking::RankingApi;
use nova_ranking::grpc::RankingGrpcClient;
use nova_runtime::shell::remote;
use nova_runtime::{Infra, Server, ServiceSpec};
use nova_trending::TrendingApi;
use nova_trending::grpc::TrendingGrpcClient;

const SERVICE: &str = "feed-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no feed-service")?;
    // Configuration first: a bad value must stop the process before anything starts.
    let graph_channel = remote(&config, "GRAPH_SERVICE_URL")?;
    let social_channel = remote(&config, "SOCIAL_SERVICE_URL")?;
    let users_channel = remote(&config, "USER_SERVICE_URL")?;
    let ranking_channel = remote(&config, "RANKING_SERVICE_URL")?;
    nova_feed::setup::config(&config)?;
    let mut infra = Infra::start(&config, spec.name).await?;
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    infra.track(jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, infra.shutdown_token()));
    let auth: Arc<dyn Authenticator> = jwks;
    let db = infra.db.clone();
    let cursors = Infra::cursor_codec(&config)?;
    let remotes = Remotes {
        graph: graph_channel,
        users: users_channel,
        social: social_channel,
    };
    let wired = nova_content::setup::content(&db, &infra.relay, cursors.clone(), remotes);
    let (content, graph): (Arc<dyn ContentApi>, _) = (wired.content, wired.graph);

    let (ranking, trending): (Arc<dyn RankingApi>, Arc<dyn TrendingApi>) = match ranking_channel {
        Some(channel) => (
            Arc::new(RankingGrpcClient::from_channel(channel.clone())),
            Arc::new(TrendingGrpcClient::from_channel(channel)),
        ),
        None => {
            let trending =
                nova_trending::setup::embedded(&config, &db, infra.shutdown_token()).await?;
            infra.consume(nova_trending::setup::CONSUMER, trending.consumer.clone());
            infra.track(trending.snapshots);
            (nova_ranking::setup::embedded(&config, &db)?, trending.api)
        }
    };

    let feed = nova_feed::setup::embedded(
        &config,
        &db,
        infra.kv.pubsub.clone(),
        Domains {
            content,
            graph,
            ranking: Some(ranking),
            trending: Some(trending),
        },
        cursors,
    )
    .await?;
    for (name, handler) in feed.consumers {
        infra.consume(name, handler);
    }

    let server = Server::new(spec, &config)
        .add_grpc_service(FeedGrpcServer::new(feed.api.clone(), auth.clone()).into_service())
        .http_routes(nova_feed::http::router(feed.api, auth));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, timelines = %infra.kv_location, "feed-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
