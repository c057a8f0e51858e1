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

use std::process::ExitCode;
use std::sync::Arc;

use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator};
use nova_content::grpc::ContentGrpcClient;
use nova_core::channel::ServiceChannel;
use nova_core::config::NovaConfig;
use nova_events::CancellationToken;
use nova_feed::grpc::FeedGrpcClient;
use nova_gateway::{Domains, GatewayOptions, TrendLabels};
use nova_graph::grpc::GraphGrpcClient;
use nova_identity::grpc::IdentityGrpcClient;
use nova_kv::Kv;
use nova_runtime::{Server, ServiceSpec};
use nova_social::grpc::SocialGrpcClient;
use nova_trending::grpc::TrendingGrpcClient;
use nova_trending::labels::TrendLabelStore;
use nova_user::grpc::UserGrpcClient;
use tonic::transport::Endpoint;

const SERVICE: &str = "graphql-gateway";

/// The services the gateway calls: variable and default service name.
const UPSTREAMS: [(&str, &str); 7] = [
    ("IDENTITY_SERVICE_URL", "identity-service"),
    ("USER_SERVICE_URL", "user-service"),
    ("GRAPH_SERVICE_URL", "graph-service"),
    ("SOCIAL_SERVICE_URL", "social-service"),
    ("CONTENT_SERVICE_URL", "content-service"),
    ("FEED_SERVICE_URL", "feed-service"),
    ("RANKING_SERVICE_URL", "ranking-service"),
];

#[tokio::main]
async fn main() -> ExitCode {
    nova_runtime::shell::main(SERVICE, run).await
}

/// A lazily connecting channel to the service named by `var` (or its k8s default).
fn upstream(config: &NovaConfig, var: &str, service: &str) -> Result<ServiceChannel, String> {
    let url = match config.source.raw(var) {
        Some((url, _)) => url.to_owned(),
        None => {
            let port = ServiceSpec::by_name(service)
                .and_then(|s| s.grpc_port)
                .ok_or_else(|| format!("service registry has no gRPC port for {service}"))?;
            format!("http://{service}:{port}")
        }
    };
    let endpoint = Endpoint::from_shared(url)
        .map_err(|_| format!("{var}: expected an http:// URL such as http://host:port"))?;
    Ok(nova_runtime::shell::with_identity(
        config,
        endpoint.connect_lazy(),
    ))
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no graphql-gateway")?;
    // Configuration first: a bad value stops the gateway before anything starts.
    nova_runtime::resolve_ports(spec, &config).map_err(|e| e.to_string())?;
    let options = GatewayOptions::from_config(&config).map_err(|e| e.to_string())?;
    let mut channels = Vec::with_capacity(UPSTREAMS.len());
    for (var, service) in UPSTREAMS {
        channels.push(upstream(&config, var, service)?);
    }
    let [identity, users, graph, social, content, feed, ranking]: [ServiceChannel; 7] = channels
        .try_into()
        .map_err(|_| "upstream channels: wrong count".to_owned())?;
    let kv = Kv::from_redis_url(config.redis_url.as_deref(), "nova:")
        .await
        .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
    let labels = match &config.database_url {
        Some(_) => {
            let (db, _) = nova_runtime::open_database(&config).await?;
            Some(db)
        }
        None => None,
    };

    let stop = CancellationToken::new();
    let jwks = Arc::new(JwksAuthenticator::from_config(&config));
    let refresh = jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, stop.clone());
    let auth: Arc<dyn Authenticator> = jwks;

    let identity = IdentityGrpcClient::from_channel(identity);
    let users = UserGrpcClient::from_channel(users);
    let graph = Arc::new(GraphGrpcClient::from_channel(graph));
    let social = SocialGrpcClient::from_channel(social);
    let content = ContentGrpcClient::from_channel(content);
    let feed = FeedGrpcClient::from_channel(feed);
    let trending = TrendingGrpcClient::from_channel(ranking);
    let domains = Domains {
        identity: Arc::new(identity.clone()),
        users: Arc::new(users.clone()),
        graph: graph.clone(),
        social: Arc::new(social.clone()),
        content: Arc::new(content.clone()),
        feed: Arc::new(feed.clone()),
        trending: Arc::new(trending.clone()),
        auth,
        limits: kv.rate_limiter.clone(),
        notifications: None,
        trend_labels: labels
            .clone()
            .map(|db| Arc::new(TrendLabelStore::new(db)) as Arc<dyn TrendLabels>),
        // Each request's domains carry its caller's token, so the services authenticate
        // the caller themselves (the gateway is never the only check).
        with_token: Some(Arc::new(move |base: &Domains, token: &str| Domains {
            identity: Arc::new(identity.with_token(token)),
            users: Arc::new(users.with_token(token)),
            social: Arc::new(social.with_token(token)),
            content: Arc::new(content.with_token(token)),
            feed: Arc::new(feed.with_token(token)),
            trending: Arc::new(trending.with_token(token)),
            ..base.clone()
        })),
    };

    let server = Server::new(spec, &config)
        .http_routes(nova_gateway::router(domains, options))
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(http = %server.http_addr(), "graphql-gateway is up");
    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    stop.cancel();
    let _ = refresh.await;
    if let Some(db) = labels {
        db.close().await;
    }
    served
}
