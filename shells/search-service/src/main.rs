//! `search-service`: full-text search of users, posts and hashtags on its own, gRPC on
//! 9087 and REST on 8087 (`SEARCH_SERVICE_GRPC_PORT` / `SEARCH_SERVICE_HTTP_PORT`), for
//! the k8s layout. The index is the embedded Tantivy index under `NOVA_DATA_DIR/search`,
//! kept current by its consumer on the event log. Content runs in-process on the same
//! database (with social and users over gRPC when `SOCIAL_SERVICE_URL` /
//! `USER_SERVICE_URL` are set): the consumer reads posts as their authors see them, in
//! background work where no caller token exists. Callers are authenticated from
//! identity's published keys (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `search-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("search-service").await
}
