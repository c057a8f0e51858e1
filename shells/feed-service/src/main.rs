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
//!
//! What it runs is `nova_app`'s plan `feed-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("feed-service").await
}
