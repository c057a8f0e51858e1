//! `analytics-service`: engagement analytics, gRPC on 9094 and REST on 8094
//! (`ANALYTICS_SERVICE_GRPC_PORT` / `ANALYTICS_SERVICE_HTTP_PORT`), for the k8s layout.
//! It consumes the event log (registrations, sessions, posts, likes, reposts, follows,
//! deleted accounts), takes client impression batches on `POST /api/v1/analytics/events`,
//! writes to ClickHouse when `CLICKHOUSE_URL` is set (else SQL tables in
//! `DATABASE_URL`), drains its write buffer on SIGTERM, and authenticates callers from
//! identity's published keys (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `analytics-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("analytics-service").await
}
