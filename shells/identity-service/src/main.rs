//! `identity-service`: the identity domain on its own, gRPC on 9081 and REST on 8081
//! (`IDENTITY_SERVICE_GRPC_PORT` / `IDENTITY_SERVICE_HTTP_PORT`), for the k8s layout.
//! The same configuration as every Nova shell; a bad value stops it with one line.
//!
//! What it runs is `nova_app`'s plan `identity-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("identity-service").await
}
