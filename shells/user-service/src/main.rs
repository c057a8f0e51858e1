//! `user-service`: profiles, settings and the account lifecycle on their own, gRPC on
//! 9080 and REST on 8080 (`USER_SERVICE_GRPC_PORT` / `USER_SERVICE_HTTP_PORT`), for the
//! k8s layout. Callers are authenticated from identity's published keys
//! (`IDENTITY_JWKS_URL`), without a call to identity per request.
//!
//! What it runs is `nova_app`'s plan `user-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("user-service").await
}
