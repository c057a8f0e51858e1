//! `social-service`: the social actions on their own, gRPC on 9093 and REST on 8093
//! (`SOCIAL_SERVICE_GRPC_PORT` / `SOCIAL_SERVICE_HTTP_PORT`), for the k8s layout.
//! It reaches graph and users through their gRPC clients when `GRAPH_SERVICE_URL` /
//! `USER_SERVICE_URL` are set (e.g. `http://graph-service:9091`), else runs them
//! in-process on the same database. Callers are authenticated from identity's published
//! keys (`IDENTITY_JWKS_URL`). Reposts live in content-service, with the post.
//!
//! What it runs is `nova_app`'s plan `social-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("social-service").await
}
