//! `graphql-gateway`: Nova's GraphQL API (HTTP 8000, `GRAPHQL_GATEWAY_HTTP_PORT`) over the
//! domain services' gRPC APIs, for the k8s layout. The same schema as the all-in-one
//! `nova`, over `*GrpcClient`s instead of in-process services.
//!
//! Where the services are: `IDENTITY_SERVICE_URL`, `USER_SERVICE_URL`,
//! `GRAPH_SERVICE_URL`, `SOCIAL_SERVICE_URL`, `CONTENT_SERVICE_URL`, `FEED_SERVICE_URL`,
//! `RANKING_SERVICE_URL` (trending); each defaults to the Kubernetes service name and
//! gRPC port (`http://identity-service:9081`, ...). Channels connect on first use, so
//! the gateway starts before the services do. Bearer tokens are verified locally from
//! identity's published keys (`IDENTITY_JWKS_URL`) and forwarded to the services, which
//! authorize every call themselves. Rate limits live in Redis when `REDIS_URL` is set
//! (shared by the replicas). With `DATABASE_URL`, trending hashtags and links show their
//! text (the labels ranking-service records); without, trends carry ids only.
//!
//! What it runs is `nova_app`'s plan `graphql-gateway`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("graphql-gateway").await
}
