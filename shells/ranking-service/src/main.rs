//! `ranking-service`: ranking and trending on their own, gRPC on 9092 and REST on 8092
//! (`RANKING_SERVICE_GRPC_PORT` / `RANKING_SERVICE_HTTP_PORT`), for the k8s layout.
//!
//! - gRPC `nova.ranking.v1.RankingService` (rank, explain, record) with the model of
//!   `RANKING_MODEL_PATH` (LightGBM `.txt`, XGBoost `.json`, linear `.toml`; default: a
//!   built-in logistic model) over the SQL feature store;
//! - gRPC `nova.ranking.v1.TrendingService` and public REST
//!   `GET /api/v1/trending?scope=&window=&limit=`; trending is fed by the content
//!   domain's events (consumer group `ranking-trending`), restored from its last SQL
//!   snapshot on start, snapshotted every `TRENDING_SNAPSHOT_INTERVAL_SECS` (60) and on
//!   shutdown. Review needs a moderator token (keys from `IDENTITY_JWKS_URL`).

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_core::config::NovaConfig;
use nova_ranking::grpc::RankingGrpcServer;
use nova_runtime::{Infra, Server, ServiceSpec};
use nova_trending::grpc::TrendingGrpcServer;

const SERVICE: &str = "ranking-service";

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no ranking-service")?;
    // Configuration first: a bad value must stop the process before anything starts.
    nova_trending::setup::snapshot_interval(&config)?;
    let ranker = nova_ranking::setup::ranker(&config)?;
    let mut infra = Infra::start(&config, spec.name).await?;
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    infra.track(jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, infra.shutdown_token()));
    let auth: Arc<dyn Authenticator> = jwks;

    let ranking = nova_ranking::setup::service(ranker, &infra.db);
    let trending =
        nova_trending::setup::embedded(&config, &infra.db, infra.shutdown_token()).await?;
    infra.track(trending.snapshots);
    infra.consume(nova_trending::setup::CONSUMER, trending.consumer);
    // The text of trending hashtags and links, for the gateway and REST readers.
    let labels = nova_trending::labels::TrendLabelStore::new(infra.db.clone());
    infra.consume(
        nova_trending::labels::LABELS_CONSUMER,
        Arc::new(nova_trending::labels::LabelRecorder::new(labels)),
    );

    let server = Server::new(spec, &config)
        .add_grpc_service(RankingGrpcServer::new(ranking).into_service())
        .add_grpc_service(TrendingGrpcServer::new(trending.api.clone(), auth).into_service())
        .http_routes(nova_trending::http::router(trending.api));
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %infra.db_location, "ranking-service is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    // Stops the consumer, writes the last trending snapshot, closes the database.
    infra.shutdown().await;
    served
}
