//! `identity-service`: the identity domain on its own, gRPC on 9081 and REST on 8081
//! (`IDENTITY_SERVICE_GRPC_PORT` / `IDENTITY_SERVICE_HTTP_PORT`), for the k8s layout.
//! The same configuration as every Nova shell; a bad value stops it with one line.

mod setup;

use std::process::ExitCode;
use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_events::{CancellationToken, OutboxLogBus, Relay, outbox};
use nova_identity::IdentityApi;
use nova_identity::grpc::IdentityGrpcServer;
use nova_kv::Kv;
use nova_runtime::{Server, ServiceSpec, check_fn};

const SERVICE: &str = "identity-service";

#[tokio::main]
async fn main() -> ExitCode {
    let config = match NovaConfig::load() {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    nova_core::telemetry::init_tracing(&config);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Serves until SIGTERM / SIGINT.
async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = ServiceSpec::by_name(SERVICE).ok_or("service registry has no identity-service")?;
    let (db, location) = setup::open_database(&config).await?;
    let kv = Kv::from_redis_url(config.redis_url.as_deref(), "nova:")
        .await
        .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;

    // Events: committed with each change in the outbox; the relay moves them onto the log.
    let store = outbox::store(&db);
    let bus = Arc::new(OutboxLogBus::new(store.clone()).with_service(spec.name));
    let relay = Relay::new(store, bus).with_service(spec.name);
    let api: Arc<dyn IdentityApi> =
        nova_identity::setup::service_from_config(&config, &db, &kv, Some(relay.waker()))
            .await
            .map_err(|e| format!("identity: {e}"))?;
    let background = CancellationToken::new();
    let relay_task = {
        let token = background.clone();
        tokio::spawn(async move { relay.run(token).await })
    };
    let pool_metrics = setup::spawn_pool_metrics(db.clone(), spec.name, background.clone());

    let db_check = db.clone();
    let mut server = Server::new(spec, &config)
        .add_grpc_service(IdentityGrpcServer::new(api.clone()).into_service())
        .http_routes(nova_identity::http::router(api))
        .readiness_check(
            "database",
            check_fn(move || {
                let db = db_check.clone();
                async move { db.ping().await }
            }),
        );
    if config.redis_url.is_some() {
        let cache = kv.cache.clone();
        server = server.readiness_check(
            "redis",
            check_fn(move || {
                let cache = cache.clone();
                async move { cache.get("readiness-probe").await.map(|_| ()) }
            }),
        );
    }
    let server = server.bind().await.map_err(|e| e.to_string())?;
    let (http, grpc) = (server.http_addr(), server.grpc_addr());
    tracing::info!(%http, ?grpc, data = %location, "identity-service is up");

    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    background.cancel();
    let _ = relay_task.await;
    let _ = pool_metrics.await;
    db.close().await;
    served
}

/// One line on stderr, exit code 2: what an operator needs to fix a bad start.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    let line = error.to_string().replace('\n', " ");
    eprintln!("{SERVICE}: {line}");
    ExitCode::from(2)
}
