//! `trust-safety-service`: reports, moderation queues, actions, strikes and appeals, the
//! append-only audit log and the pre-publish check, gRPC on 9095 and REST on 8095
//! (`TRUST_SAFETY_SERVICE_GRPC_PORT` / `TRUST_SAFETY_SERVICE_HTTP_PORT`), for the k8s
//! layout. content-service calls its `Check` before storing a post and its
//! `ActionsInForce` when reading posts (`TRUST_SAFETY_SERVICE_URL`); it authenticates
//! callers from identity's published keys (`IDENTITY_JWKS_URL`), and only moderators
//! and admins (token scopes) reach the moderation routes.
//!
//! What it runs is `nova_app`'s plan `trust-safety-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("trust-safety-service").await
}
