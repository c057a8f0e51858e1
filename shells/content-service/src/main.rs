//! `content-service`: posts, threads, quotes, likes, bookmarks and edits on their own,
//! gRPC on 9082 and REST on 8082 (`CONTENT_SERVICE_GRPC_PORT` /
//! `CONTENT_SERVICE_HTTP_PORT`), for the k8s layout. It reaches social, graph and users
//! through their gRPC clients when `SOCIAL_SERVICE_URL` / `GRAPH_SERVICE_URL` /
//! `USER_SERVICE_URL` are set (e.g. `http://social-service:9093`), else runs them
//! in-process on the same database. Callers are authenticated from identity's published
//! keys (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `content-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("content-service").await
}
