//! Wiring of the all-in-one process.

use std::sync::Arc;
use std::time::Duration;

use nova_core::config::NovaConfig;
use nova_db::{Db, DbOptions};
use nova_events::{CancellationToken, OutboxLogBus, Relay, outbox};
use nova_kv::Kv;
use nova_runtime::{SERVICES, Server, ServiceSpec, check_fn};

/// The gateway's spec: the all-in-one answers on the gateway's port.
fn gateway_spec() -> Result<&'static ServiceSpec, String> {
    ServiceSpec::by_name("graphql-gateway")
        .ok_or_else(|| "service registry has no graphql-gateway".to_owned())
}

/// Opens the database named by `DATABASE_URL`, else SQLite in the data directory.
async fn open_database(config: &NovaConfig) -> Result<(Db, String), String> {
    let options = DbOptions {
        max_connections: config.database_max_connections,
        ..DbOptions::default()
    };
    let (db, location) = match &config.database_url {
        Some(url) => {
            let db = Db::connect(url, &options).await;
            (db, redact(url))
        }
        None => {
            let path = config.data_dir.join("nova.db");
            let db = Db::open_sqlite_file(&path, &options).await;
            (db, path.display().to_string())
        }
    };
    let db = db.map_err(|e| format!("cannot open the database at {location}: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("cannot migrate the database at {location}: {e}"))?;
    Ok((db, location))
}

/// A URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Runs until SIGTERM / SIGINT.
pub async fn run(config: NovaConfig) -> Result<(), String> {
    let spec = gateway_spec()?;
    let (db, location) = open_database(&config).await?;

    // Events: the outbox is the durable log; the relay moves committed events onto it.
    let store = outbox::store(&db);
    let bus = Arc::new(OutboxLogBus::new(store.clone()).with_service(spec.name));
    let relay = Relay::new(store, bus).with_service(spec.name);
    let relay_waker = relay.waker();
    let background = CancellationToken::new();
    let relay_task = {
        let token = background.clone();
        tokio::spawn(async move { relay.run(token).await })
    };
    let pool_metrics = {
        let (db, token, service) = (db.clone(), background.clone(), spec.name);
        tokio::spawn(async move {
            while !token.is_cancelled() {
                let (size, idle) = db.pool_stats();
                nova_runtime::record_db_pool(service, size, idle);
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        })
    };

    // Cache, rate limits, pub/sub, sorted sets: Redis when REDIS_URL is set.
    let kv = Kv::from_redis_url(config.redis_url.as_deref(), "nova:")
        .await
        .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
    let kv_location = match &config.redis_url {
        Some(url) => redact(url),
        None => "in-process".to_owned(),
    };

    // Domains: each writes through `db`, wakes the relay after commits, limits with `kv`.
    let identity = nova_identity::setup::service_from_config(&config, &db, &kv, Some(relay_waker))
        .await
        .map_err(|e| format!("identity: {e}"))?;

    let db_check = db.clone();
    let mut server = Server::new(spec, &config)
        .http_routes(nova_identity::http::router(identity))
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
    let http = server.http_addr();
    tracing::info!(%http, data = %location, "nova is up");
    println!("nova: listening on http://{http} (health /api/v1/health, metrics /metrics)");
    println!("nova: data in {location}; cache and rate limits: {kv_location}");
    println!(
        "nova: {} services in the registry; embedded event log and storage",
        SERVICES.len()
    );

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

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            redact("postgres://nova:s3cret@db:5432/nova"),
            "postgres://nova:***@db:5432/nova"
        );
        assert_eq!(redact("sqlite:./x.db"), "sqlite:./x.db");
    }
}
