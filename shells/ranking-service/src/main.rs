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
//!
//! What it runs is `nova_app`'s plan `ranking-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("ranking-service").await
}
