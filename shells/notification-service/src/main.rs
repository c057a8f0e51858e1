//! `notification-service`: grouped in-app notifications, gRPC on 9088 and REST on 8088
//! (`NOTIFICATION_SERVICE_GRPC_PORT` / `NOTIFICATION_SERVICE_HTTP_PORT`), for the k8s
//! layout. It consumes the event log (likes, reposts, posts, follows, follow requests),
//! asks social who may notify whom (`SOCIAL_SERVICE_URL`, else in-process on the same
//! database), and authenticates callers from identity's published keys
//! (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `notification-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("notification-service").await
}
